/**
 * The embedded server in a worker thread (`startEmbeddedMongo({ thread: true })`, the default of
 * openConfiguredDatabase): same wire behaviour, same start-up errors, same durability as in-thread,
 * and it keeps answering while the app's own thread is busy.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../src/db/embedded/index.js';
import { openConfiguredDatabase } from '../../src/db/open.js';
import { createLogger } from '../../src/log.js';
import {
  expectKillRestartKeepsAcknowledged,
  spawnPrintingUri,
  type Served,
} from './fixtures/kill-restart.js';

const { MongoClient } = mongoose.mongo;
const dirs: string[] = [];
const children: ChildProcess[] = [];
const servers: EmbeddedMongo[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'embedded-mongo-thread-'));
  dirs.push(dir);
  return dir;
}

async function start(opts: Parameters<typeof startEmbeddedMongo>[0]): Promise<EmbeddedMongo> {
  const server = await startEmbeddedMongo(opts);
  servers.push(server);
  return server;
}

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  // close() is idempotent, so tests may close their servers themselves.
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The app's way of opening its database, in a child process; resolves with the printed URI. */
async function spawnApp(dir: string): Promise<Served> {
  const served = await spawnPrintingUri(['test/db/fixtures/open-embedded.ts', dir]);
  children.push(served.child);
  return served;
}

/** The rejection of `p`, for comparing errors. */
async function rejectionOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`rejected with a non-error: ${String(err)}`, { cause: err });
  }
  throw new Error('expected a rejection');
}

describe('embedded server in a worker thread', () => {
  it('clears sockets left by killed apps when the app opens its own, and removes its own on close', async () => {
    const gone = spawnSync(process.execPath, ['-e', '']).pid; // a process that has exited
    const stale = join(tmpdir(), `civic-db-${gone}-deadbeef.sock`);
    const live = join(tmpdir(), `civic-db-${process.pid}-0badcafe.sock`); // a live process's (this one)
    for (const f of [stale, live]) writeFileSync(f, '');
    const database = await openConfiguredDatabase(
      { mongodbUri: undefined, dataDir: null },
      createLogger('warn'),
    );
    const own = decodeURIComponent(/^mongodb:\/\/([^/]+)\//.exec(database.embedded?.uri ?? '')?.[1] ?? '');
    expect(own).toMatch(new RegExp(`civic-db-${process.pid}-[0-9a-f]{8}\\.sock$`));
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(await database.db.Citizen.countDocuments({})).toBe(0); // it answers over the socket
    await database.close();
    expect(existsSync(own)).toBe(false);
    rmSync(live, { force: true });
  });

  it("listens on a Unix socket when given one (the app's default), and removes it on close", async () => {
    const socketPath = join(tempDir(), 'db.sock');
    const server = await start({ thread: true, socketPath, logger: () => undefined });
    expect(server.uri).toBe(`mongodb://${encodeURIComponent(socketPath)}/?directConnection=true`);
    expect(existsSync(socketPath)).toBe(true);
    const client = await new MongoClient(server.uri).connect();
    const c = client.db('app').collection<{ _id: number; v: string }>('c');
    await c.insertOne({ _id: 1, v: 'a' });
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, v: 'a' });
    await client.close();
    await server.close();
    expect(existsSync(socketPath)).toBe(false);
  });

  it('serves the wire protocol and stops listening on close', async () => {
    const logged: string[] = [];
    const server = await start({ thread: true, logger: (m) => logged.push(m) });
    expect(server.uri).toBe(`mongodb://127.0.0.1:${server.port}/?directConnection=true`);
    const client = await new MongoClient(server.uri).connect();
    const c = client.db('app').collection<{ _id: number; v: string }>('c');
    await c.createIndex({ v: 1 }, { unique: true });
    await c.insertMany([
      { _id: 1, v: 'a' },
      { _id: 2, v: 'b' },
    ]);
    await expect(c.insertOne({ _id: 3, v: 'a' })).rejects.toMatchObject({ code: 11000 });
    expect(await c.find({ v: 'b' }).toArray()).toEqual([{ _id: 2, v: 'b' }]);
    await client.close();
    await server.close();
    await server.close();
    const late = new MongoClient(server.uri, { serverSelectionTimeoutMS: 1_000 });
    await expect(late.connect()).rejects.toThrow();
    await late.close();
  });

  it('forwards its log lines to the caller', async () => {
    const logged: string[] = [];
    const server = await start({ thread: true, logger: (m) => logged.push(m) });
    // A malformed message closes that connection and is logged by the server (in the worker).
    const { Socket } = await import('node:net');
    await new Promise<void>((resolve, reject) => {
      const s = new Socket();
      s.on('error', reject);
      s.on('close', () => resolve());
      s.connect(server.port, '127.0.0.1', () => {
        const bad = Buffer.alloc(16);
        bad.writeInt32LE(16, 0);
        bad.writeInt32LE(9999, 12); // unknown opCode
        s.write(bad);
      });
    });
    await server.close();
    expect(logged.some((l) => /malformed message/.test(l))).toBe(true);
  });

  it('keeps answering while the app thread is blocked', { timeout: 120_000 }, async () => {
    const server = await start({ thread: true, logger: () => undefined });
    // spawnSync blocks this thread until the child is done: only a server on another thread can answer it.
    const script = `
      import mongoose from 'mongoose';
      const c = await new mongoose.mongo.MongoClient(process.argv[1]).connect();
      await c.db('app').collection('c').insertOne({ from: 'child' });
      process.stdout.write(String(await c.db('app').collection('c').countDocuments({ from: 'child' })));
      await c.close();`;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script, server.uri], {
      encoding: 'utf8',
      timeout: 100_000,
    });
    expect(out.stdout).toBe('1');
  });

  it('keeps its data across close and reopen, and releases the LOCK', async () => {
    const dir = tempDir();
    const first = await start({ dir, thread: true, logger: () => undefined });
    expect(existsSync(join(dir, 'LOCK'))).toBe(true);
    const client = await new MongoClient(first.uri).connect();
    const t = client.db('app').collection<{ _id: number; n: number }>('t');
    await t.createIndex({ n: 1 }, { unique: true });
    for (let i = 0; i < 20; i++) await t.insertOne({ _id: i, n: i });
    await t.updateMany({ n: { $lt: 5 } }, { $inc: { n: 100 } });
    await t.deleteOne({ _id: 19 });
    await client.close();
    await first.close();
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);

    // Reopened threaded and in-thread: both read what the threaded server journaled.
    for (const thread of [true, false]) {
      const again = await start({ dir, thread, logger: () => undefined });
      const c2 = await new MongoClient(again.uri).connect();
      const t2 = c2.db('app').collection<{ _id: number; n: number }>('t');
      expect(await t2.countDocuments()).toBe(19);
      expect(await t2.countDocuments({ n: { $gte: 100 } })).toBe(5);
      await expect(t2.insertOne({ _id: 50, n: 7 })).rejects.toMatchObject({ code: 11000 });
      await c2.close();
      await again.close();
    }
  });

  it('rejects with the in-thread errors: folder in use, port in use', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const app = await spawnApp(dir);
    const threaded = await rejectionOf(start({ dir, thread: true, logger: () => undefined }));
    const inThread = await rejectionOf(start({ dir, logger: () => undefined }));
    expect(threaded.message).toMatch(/in use by process/);
    expect(threaded.message).toBe(inThread.message);
    // The refused start did not take the folder over: the app's server still owns and serves it.
    const client = await new MongoClient(app.uri).connect();
    await client.db('app').collection('c').insertOne({ still: 'served' });
    await client.close();

    const holder = await start({ logger: () => undefined });
    const portThreaded = await rejectionOf(
      start({ port: holder.port, thread: true, logger: () => undefined }),
    );
    const portInThread = await rejectionOf(start({ port: holder.port, logger: () => undefined }));
    expect(portThreaded).toMatchObject({ code: 'EADDRINUSE', message: portInThread.message });
  });

  it('loses no acknowledged write when the app is killed with SIGKILL', { timeout: 180_000 }, async () => {
    // The restarted app's threaded server holds the folder against a second server.
    await expectKillRestartKeepsAcknowledged(tempDir(), spawnApp, (dir) =>
      start({ dir, thread: true, logger: () => undefined }),
    );
  });
});
