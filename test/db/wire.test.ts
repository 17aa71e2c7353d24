/**
 * Wire-level behaviour of the embedded server itself (not part of the conformance suite, as it
 * pins choices a real MongoDB makes differently or that need raw sockets).
 */
import { connect, type Socket } from 'node:net';
import { deserialize, serialize } from 'bson';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../src/db/embedded/index.js';

const { MongoClient } = mongoose.mongo;
let server: EmbeddedMongo;
let client: InstanceType<typeof MongoClient>;
const logged: string[] = [];

beforeAll(async () => {
  server = await startEmbeddedMongo({ logger: (m) => logged.push(m) });
  client = await new MongoClient(server.uri).connect();
});
afterAll(async () => {
  await client.close();
  await server.close();
});

function rawSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(server.port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

function readMessage(s: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 4 && buf.length >= buf.readInt32LE(0)) resolve(buf);
    });
    s.once('close', () => reject(new Error('closed')));
  });
}

function closed(s: Socket): Promise<boolean> {
  return new Promise((resolve) => {
    if (s.destroyed) resolve(true);
    s.once('close', () => resolve(true));
    s.resume();
  });
}

describe('wire protocol', () => {
  it('answers the legacy OP_QUERY handshake with an OP_REPLY', async () => {
    logged.length = 0;
    const s = await rawSocket();
    const doc = Buffer.from(serialize({ isMaster: 1, helloOk: true }));
    const ns = Buffer.from('admin.$cmd\0');
    const head = Buffer.alloc(20);
    const msg = Buffer.concat([head, ns, Buffer.alloc(8), doc]);
    msg.writeInt32LE(msg.length, 0);
    msg.writeInt32LE(42, 4);
    msg.writeInt32LE(2004, 12);
    msg.writeInt32LE(-1, 20 + ns.length + 4);
    s.write(msg);
    const reply = await readMessage(s).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${logged.join('; ')}`);
    });
    expect(reply.readInt32LE(8)).toBe(42);
    expect(reply.readInt32LE(12)).toBe(1);
    const body = deserialize(reply.subarray(36));
    expect(body).toMatchObject({ ok: 1, ismaster: true, helloOk: true });
    expect(body['maxWireVersion']).toBeGreaterThanOrEqual(9);
    expect(body['compression']).toBeUndefined();
    s.destroy();
  });

  it('closes only the connection that sent a malformed message, with a log line', async () => {
    logged.length = 0;
    const s = await rawSocket();
    const bad = Buffer.alloc(16);
    bad.writeInt32LE(3, 0);
    s.write(bad);
    expect(await closed(s)).toBe(true);
    const s2 = await rawSocket();
    const unknownOp = Buffer.alloc(16);
    unknownOp.writeInt32LE(16, 0);
    unknownOp.writeInt32LE(9999, 12);
    s2.write(unknownOp);
    expect(await closed(s2)).toBe(true);
    expect(logged.filter((l) => /malformed message/.test(l))).toHaveLength(2);
    expect(await client.db('x').command({ ping: 1 })).toMatchObject({ ok: 1 });
  });

  it('applies unacknowledged (moreToCome) writes without replying', async () => {
    const c = client.db('x').collection('w0');
    await c.insertOne({ fire: 'and forget' }, { writeConcern: { w: 0 } });
    let n = 0;
    for (let i = 0; i < 50 && n === 0; i++) n = await c.countDocuments();
    expect(n).toBe(1);
  });

  it('refuses transactions with IllegalOperation (20) but accepts implicit sessions', async () => {
    const session = client.startSession();
    await client.db('x').collection('tx').insertOne({ a: 1 }, { session });
    session.startTransaction();
    const err = await client
      .db('x')
      .collection('tx')
      .insertOne({ a: 2 }, { session })
      .catch((e: unknown) => e);
    // The driver rewraps code 20 ("Transaction numbers are only allowed on a replica set member")
    // into its own advice, exactly as it does against a standalone mongod.
    expect(err).toMatchObject({ originalError: { code: 20 } });
    await session.abortTransaction().catch(() => undefined);
    await session.endSession();
    expect(await client.db('x').collection('tx').countDocuments()).toBe(1);
  });

  it('answers unsupported features clearly instead of hanging', async () => {
    const db = client.db('x');
    await expect(
      db
        .collection('tx')
        .aggregate([{ $out: 'copy' }])
        .toArray(),
    ).rejects.toMatchObject({ code: 115 });
    await expect(db.createCollection('capped', { capped: true, size: 1024 })).rejects.toMatchObject({
      code: 115,
    });
    await expect(db.collection('tx').createIndex({ body: 'text' })).rejects.toMatchObject({ code: 115 });
    await expect(db.command({ replSetGetStatus: 1 })).rejects.toMatchObject({ code: 59 });
  });
});
