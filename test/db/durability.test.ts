/**
 * Durability of the embedded server's data folder: acknowledged writes survive SIGKILL, a torn
 * journal tail is dropped with a warning, compaction keeps the journal bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import mongoose from 'mongoose';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedMongo } from '../../src/db/embedded/index.js';

const { MongoClient } = mongoose.mongo;
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'embedded-mongo-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Starts `npm run db`'s entry point as a child process; resolves with its printed URI. */
function spawnServer(dir: string): Promise<{ child: ChildProcess; uri: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/db/embedded/cli.ts', '--dir', dir, '--port', '0'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    const stdout = child.stdout;
    if (!stdout) return reject(new Error('no stdout'));
    const lines = createInterface({ input: stdout });
    lines.once('line', (uri) => resolve({ child, uri }));
    child.once('exit', (code) =>
      reject(new Error(`server exited with ${String(code)} before printing its URI`)),
    );
  });
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('durable data folder', () => {
  it('keeps every acknowledged write across kill -9', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const first = await spawnServer(dir);
    const client = await new MongoClient(first.uri, { maxPoolSize: 10 }).connect();
    const docs = client
      .db('app')
      .collection<{ _id: string; w: number; i: number; touched?: boolean }>('docs');
    await docs.createIndex({ w: 1, i: 1 }, { unique: true });
    const acknowledged: string[] = [];
    // Ten concurrent writers, so that acknowledgements come from shared (group-committed) fsyncs.
    await Promise.all(
      Array.from({ length: 10 }, async (_, w) => {
        for (let i = 0; i < 30; i++) {
          await docs.insertOne({ _id: `${w}-${i}`, w, i });
          acknowledged.push(`${w}-${i}`);
        }
      }),
    );
    await docs.updateMany({ w: 0 }, { $set: { touched: true } });
    await docs.deleteOne({ _id: '9-29' });
    // Writes still in flight at the moment of the kill may or may not survive; none acknowledged may be lost.
    const inFlight = Array.from({ length: 20 }, (_, i) =>
      docs.insertOne({ _id: `late-${i}`, w: 99, i }).catch(() => undefined),
    );
    await killHard(first.child);
    await Promise.all(inFlight);
    await client.close(true);

    const second = await spawnServer(dir);
    const again = await new MongoClient(second.uri).connect();
    const after = again
      .db('app')
      .collection<{ _id: string; w: number; i?: number; touched?: boolean }>('docs');
    const ids = new Set((await after.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id));
    expect(acknowledged.filter((id) => id !== '9-29' && !ids.has(id))).toEqual([]);
    expect(ids.has('9-29')).toBe(false);
    expect(await after.countDocuments({ w: 0, touched: true })).toBe(30);
    expect((await after.listIndexes().toArray()).map((i) => i['name'])).toContain('w_1_i_1');
    await expect(after.insertOne({ _id: 'dup', w: 1, i: 1 })).rejects.toMatchObject({ code: 11000 });
    // The folder is locked by the running server.
    await expect(startEmbeddedMongo({ dir, logger: () => undefined })).rejects.toThrow(/in use/);
    await again.close();
    await killHard(second.child);
  });

  it('drops a torn last record with a warning and keeps the earlier ones', async () => {
    const dir = tempDir();
    const server = await startEmbeddedMongo({ dir, logger: () => undefined });
    const client = await new MongoClient(server.uri).connect();
    for (let i = 0; i < 10; i++) await client.db('app').collection('t').insertOne({ i });
    await client.close();
    await server.close();

    const journal = readdirSync(dir).find((f) => f.startsWith('journal-'));
    expect(journal).toBeDefined();
    const path = join(dir, journal ?? '');
    truncateSync(path, statSync(path).size - 5);

    const warnings: string[] = [];
    const reopened = await startEmbeddedMongo({ dir, logger: (m) => warnings.push(m) });
    expect(warnings.some((w) => /torn record/.test(w))).toBe(true);
    const c2 = await new MongoClient(reopened.uri).connect();
    const t = c2.db('app').collection('t');
    expect((await t.find().sort({ i: 1 }).toArray()).map((d) => d['i'])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // New writes after the repaired tail survive the next restart.
    await t.insertOne({ i: 9 });
    await c2.close();
    await reopened.close();
    const third = await startEmbeddedMongo({ dir, logger: () => undefined });
    const c3 = await new MongoClient(third.uri).connect();
    expect(await c3.db('app').collection('t').countDocuments()).toBe(10);
    await c3.close();
    await third.close();
  });

  it('compacts into a snapshot, keeping the journal bounded and the state intact', async () => {
    const dir = tempDir();
    const server = await startEmbeddedMongo({ dir, compactAfterBytes: 16 * 1024, logger: () => undefined });
    const client = await new MongoClient(server.uri).connect();
    const c = client.db('app').collection<{ _id: number; n: number; email: string }>('c');
    await c.createIndex({ email: 1 }, { unique: true });
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 100; i++) {
        await c.updateOne({ _id: i }, { $set: { email: `u${i}@x` }, $inc: { n: 1 } }, { upsert: true });
      }
    }
    await c.deleteMany({ _id: { $gte: 90 } });
    await client.close();
    await server.close();

    const files = readdirSync(dir);
    const snapshots = files.filter((f) => /^snapshot-\d+\.bson$/.test(f));
    expect(snapshots.length).toBe(1);
    const journalBytes = files
      .filter((f) => f.startsWith('journal-'))
      .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    expect(journalBytes).toBeLessThan(64 * 1024);

    const reopened = await startEmbeddedMongo({ dir, logger: () => undefined });
    const c2 = await new MongoClient(reopened.uri).connect();
    const after = c2.db('app').collection<{ _id: number; n: number; email: string }>('c');
    expect(await after.countDocuments()).toBe(90);
    expect(await after.countDocuments({ n: 5 })).toBe(90);
    await expect(after.insertOne({ _id: 500, n: 0, email: 'u1@x' })).rejects.toMatchObject({ code: 11000 });
    await c2.close();
    await reopened.close();
  });
});
