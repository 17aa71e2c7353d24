/**
 * Durability of the embedded server's data folder: acknowledged writes survive SIGKILL, a torn
 * journal tail is dropped with a warning, compaction keeps the journal bounded.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedMongo } from '../../src/db/embedded/index.js';
import {
  expectKillRestartKeepsAcknowledged,
  spawnPrintingUri,
  type Served,
} from './fixtures/kill-restart.js';

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
const spawnServer = (dir: string): Promise<Served> =>
  spawnPrintingUri(['src/db/embedded/cli.ts', '--dir', dir, '--port', '0']);

describe('durable data folder', () => {
  it('keeps every acknowledged write across kill -9', { timeout: 120_000 }, async () => {
    // The folder is locked by the running server.
    await expectKillRestartKeepsAcknowledged(tempDir(), spawnServer, (dir) =>
      startEmbeddedMongo({ dir, logger: () => undefined }),
    );
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
