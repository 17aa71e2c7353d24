/**
 * Conformance suite: the same assertions run against the embedded server and, when
 * TEST_MONGODB_URI is set, against a real MongoDB — so behaviour is pinned to MongoDB's.
 */
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestMongo, type TestMongo } from '../helpers/mongo.js';

const { MongoClient, MongoServerError, ObjectId } = mongoose.mongo;
type Client = InstanceType<typeof MongoClient>;
type Db = ReturnType<Client['db']>;

let server: TestMongo;
let client: Client;
let db: Db;
const started: string[] = [];

beforeAll(async () => {
  server = await startTestMongo();
  client = new MongoClient(server.uri, { monitorCommands: true });
  client.on('commandStarted', (e) => started.push(e.commandName));
  await client.connect();
  db = client.db();
});

afterAll(async () => {
  await client.close();
  await server.stop();
});

function codeOf(promise: Promise<unknown>): Promise<number | undefined> {
  return promise.then(
    () => undefined,
    (err: unknown) => (err instanceof MongoServerError ? Number(err.code) : -1),
  );
}

describe('CRUD with the raw driver', () => {
  it('inserts, finds, updates, replaces and deletes with MongoDB result counts', async () => {
    const c = db.collection('crud');
    const many = await c.insertMany([
      { n: 1, tag: 'a' },
      { n: 2, tag: 'b' },
      { n: 3, tag: 'b' },
    ]);
    expect(many.insertedCount).toBe(3);
    const one = await c.insertOne({ _id: new ObjectId(), n: 4 });
    expect(one.insertedId).toBeInstanceOf(ObjectId);
    expect(await c.findOne({ n: 2 }, { projection: { _id: 0 } })).toEqual({ n: 2, tag: 'b' });

    const upd = await c.updateMany({ tag: 'b' }, { $inc: { n: 10 }, $set: { seen: true } });
    expect([upd.matchedCount, upd.modifiedCount]).toEqual([2, 2]);
    const same = await c.updateOne({ n: 1 }, { $set: { tag: 'a' } });
    expect([same.matchedCount, same.modifiedCount]).toEqual([1, 0]);
    const none = await c.updateOne({ n: 999 }, { $set: { x: 1 } });
    expect([none.matchedCount, none.modifiedCount, none.upsertedId]).toEqual([0, 0, null]);

    const rep = await c.replaceOne({ n: 4 }, { n: 40, replaced: true });
    expect(rep.modifiedCount).toBe(1);
    const replaced = await c.findOne({ n: 40 });
    expect(replaced?._id.equals(one.insertedId)).toBe(true);
    expect(Object.keys(replaced ?? {})).toEqual(['_id', 'n', 'replaced']);

    expect((await c.deleteOne({ tag: 'b' })).deletedCount).toBe(1);
    expect((await c.deleteMany({})).deletedCount).toBe(3);
    expect(await c.countDocuments()).toBe(0);
  });

  it('keeps _id immutable (code 66) and rejects a duplicate _id (code 11000)', async () => {
    const c = db.collection('immutable');
    await c.insertOne({ _id: 'k1' as never, v: 1 });
    expect(await codeOf(c.updateOne({ _id: 'k1' as never }, { $set: { _id: 'k2' } }))).toBe(66);
    expect(await codeOf(c.insertOne({ _id: 'k1' as never }))).toBe(11000);
    expect(await c.findOne({ _id: 'k1' as never })).toEqual({ _id: 'k1', v: 1 });
  });

  it('applies update operators on nested paths and arrays', async () => {
    const c = db.collection<{
      a: { b: number };
      list: number[];
      tags?: string[];
      labels?: string[];
      low?: number;
    }>('ops');
    const { insertedId } = await c.insertOne({ a: { b: 1 }, list: [1, 2, 3], tags: ['x'] });
    await c.updateOne(
      { _id: insertedId },
      {
        $inc: { 'a.b': 2 },
        $push: { list: 4 },
        $addToSet: { tags: 'x' },
        $unset: { gone: '' },
        $min: { low: 5 },
      },
    );
    await c.updateOne({ _id: insertedId }, { $pull: { list: { $gte: 3 } }, $rename: { tags: 'labels' } });
    expect(await c.findOne({ _id: insertedId }, { projection: { _id: 0 } })).toEqual({
      a: { b: 3 },
      list: [1, 2],
      labels: ['x'],
      low: 5,
    });
  });

  it('reports write errors in order: ordered stops at the first, unordered carries on', async () => {
    const c = db.collection('batch');
    await c.insertOne({ _id: 2 as never });
    const ordered = await c
      .insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }] as never[], { ordered: true })
      .catch((e: unknown) => e);
    expect(ordered).toMatchObject({ code: 11000, result: { insertedCount: 1 } });
    await c.deleteMany({ _id: { $in: [1, 3] } as never });
    const unordered = await c
      .insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }] as never[], { ordered: false })
      .catch((e: unknown) => e);
    expect(unordered).toMatchObject({ code: 11000, result: { insertedCount: 2 } });
    expect(unordered).toHaveProperty('writeErrors.0.index', 1);
    expect(await c.countDocuments()).toBe(3);
  });
});

describe('cursors', () => {
  it('returns every document across getMore batches with batchSize', async () => {
    const c = db.collection('cursor');
    await c.insertMany(Array.from({ length: 255 }, (_, i) => ({ i })));
    const before = started.filter((n) => n === 'getMore').length;
    const docs = await c.find({}, { batchSize: 10 }).sort({ i: 1 }).toArray();
    expect(docs.map((d) => d['i'])).toEqual(Array.from({ length: 255 }, (_, i) => i));
    expect(started.filter((n) => n === 'getMore').length - before).toBe(25);
  });

  it('kills a cursor: its id is then unknown (code 43)', async () => {
    const c = db.collection('cursor');
    const reply = await db.command({ find: 'cursor', filter: {}, batchSize: 2 });
    const id: unknown = reply['cursor']?.id;
    expect(String(id)).not.toBe('0');
    const killed = await db.command({ killCursors: 'cursor', cursors: [id] });
    expect(killed['cursorsKilled']).toHaveLength(1);
    expect(await codeOf(db.command({ getMore: id, collection: 'cursor' }))).toBe(43);
    const cursor = c.find({}, { batchSize: 3 });
    await cursor.next();
    await cursor.close();
    expect(started).toContain('killCursors');
  });

  it('closes a singleBatch cursor with the first batch', async () => {
    const reply = await db.command({ find: 'cursor', filter: {}, batchSize: 5, singleBatch: true });
    expect(reply['cursor']?.firstBatch).toHaveLength(5);
    expect(String(reply['cursor']?.id)).toBe('0');
  });

  it('sorts, skips, limits and projects', async () => {
    const c = db.collection('sorting');
    await c.insertMany([
      { name: 'c', prio: 1, at: new Date(3), info: { city: 'X', zip: '1' } },
      { name: 'a', prio: 2, at: new Date(2), info: { city: 'Y', zip: '2' } },
      { name: 'b', prio: 2, at: new Date(1), info: { city: 'Z', zip: '3' } },
      { name: 'd', prio: 0, at: new Date(4), info: { city: 'W', zip: '4' } },
    ]);
    const names = async (f: ReturnType<typeof c.find>): Promise<unknown[]> =>
      (await f.toArray()).map((d) => d['name']);
    expect(await names(c.find().sort({ prio: -1, at: 1 }))).toEqual(['b', 'a', 'c', 'd']);
    expect(await names(c.find().sort({ name: 1 }).skip(1).limit(2))).toEqual(['b', 'c']);
    expect(await names(c.find({ prio: { $gte: 1 } }).sort({ name: -1 }))).toEqual(['c', 'b', 'a']);
    expect(
      await c.find({ name: 'a' }, { projection: { _id: 0, name: 1, 'info.city': 1 } }).toArray(),
    ).toEqual([{ name: 'a', info: { city: 'Y' } }]);
    expect(await c.find({ name: 'a' }, { projection: { _id: 0, info: 0, at: 0 } }).toArray()).toEqual([
      { name: 'a', prio: 2 },
    ]);
  });
});

describe('filters MongoDB refuses', () => {
  it('refuses them whatever the collection holds, before the projection or any document', async () => {
    const empty = db.collection('refused_empty');
    const full = db.collection('refused_full');
    await full.insertMany([{ a: 1 }, { a: [2, 3] }]);
    for (const c of [empty, full]) {
      const message = (filter: Record<string, unknown>, projection?: Record<string, unknown>) =>
        c
          .find(filter, projection ? { projection } : {})
          .toArray()
          .then(
            () => 'accepted',
            (err: unknown) => (err instanceof MongoServerError ? `${err.code} ${err.message}` : String(err)),
          );
      expect(await message({ a: { $in: 5 } }, { a: 1, b: 0 })).toBe('2 $in needs an array');
      expect(await message({ a: { $not: { $nin: 'x' } } })).toBe('2 $nin needs an array');
      expect(await message({ a: { $all: 2 } })).toBe('2 $all needs an array');
      expect(await message({ $or: [] })).toBe('2 $and/$or/$nor must be a nonempty array');
      expect(await codeOf(c.countDocuments({ a: { $in: 'ab' } }))).toBe(2);
    }
    expect(await codeOf(full.updateMany({ a: { $in: 1 } }, { $set: { b: 1 } }))).toBe(2);
    expect(await codeOf(full.deleteMany({ $and: [{ a: { $nin: null } }] }))).toBe(2);
    expect(await full.countDocuments({ a: { $in: [1, 3] } })).toBe(2);
  });
});

describe('upserts, arrayFilters and findAndModify', () => {
  it('upserts from the filter equalities plus $setOnInsert, only on insert', async () => {
    const c = db.collection('upsert');
    const first = await c.updateOne(
      { key: 'k', kind: { $eq: 'x' } },
      { $set: { v: 1 }, $setOnInsert: { created: 1 } },
      { upsert: true },
    );
    expect(first.upsertedCount).toBe(1);
    const second = await c.updateOne(
      { key: 'k', kind: 'x' },
      { $set: { v: 2 }, $setOnInsert: { created: 2 } },
      { upsert: true },
    );
    expect([second.upsertedCount, second.matchedCount, second.modifiedCount]).toEqual([0, 1, 1]);
    expect(await c.findOne({ key: 'k' }, { projection: { _id: 0 } })).toEqual({
      key: 'k',
      kind: 'x',
      v: 2,
      created: 1,
    });
  });

  it('updates the array elements picked by arrayFilters and the positional $', async () => {
    const c = db.collection('arrays');
    const { insertedId } = await c.insertOne({ grades: [{ s: 70 }, { s: 85 }, { s: 90 }], tags: ['a', 'b'] });
    await c.updateOne(
      { _id: insertedId },
      { $set: { 'grades.$[g].ok': true } },
      { arrayFilters: [{ 'g.s': { $gte: 80 } }] },
    );
    await c.updateOne({ _id: insertedId, tags: 'b' }, { $set: { 'tags.$': 'B' } });
    expect(await c.findOne({ _id: insertedId }, { projection: { _id: 0 } })).toEqual({
      grades: [{ s: 70 }, { s: 85, ok: true }, { s: 90, ok: true }],
      tags: ['a', 'B'],
    });
  });

  it('findOneAndUpdate returns the document before or after, honouring sort and projection', async () => {
    const c = db.collection('fam');
    await c.insertMany([
      { q: 'w', p: 1, n: 0 },
      { q: 'w', p: 5, n: 0 },
      { q: 'w', p: 3, n: 0 },
    ]);
    const before = await c.findOneAndUpdate(
      { q: 'w' },
      { $inc: { n: 1 } },
      { sort: { p: -1 }, projection: { _id: 0, p: 1, n: 1 } },
    );
    expect(before).toEqual({ p: 5, n: 0 });
    const after = await c.findOneAndUpdate(
      { q: 'w', n: 0 },
      { $inc: { n: 1 } },
      { sort: { p: -1 }, returnDocument: 'after', projection: { _id: 0 } },
    );
    expect(after).toEqual({ q: 'w', p: 3, n: 1 });
    expect(await c.findOneAndUpdate({ q: 'none' }, { $set: { n: 1 } })).toBeNull();
    const upserted = await c.findOneAndUpdate(
      { q: 'new' },
      { $set: { n: 7 } },
      { upsert: true, returnDocument: 'after', projection: { _id: 0 } },
    );
    expect(upserted).toEqual({ q: 'new', n: 7 });
    const meta = await c.findOneAndUpdate(
      { q: 'new2' },
      { $set: { n: 1 } },
      { upsert: true, includeResultMetadata: true },
    );
    expect(meta.value).toBeNull();
    expect(meta.lastErrorObject).toMatchObject({ n: 1, updatedExisting: false });
    const replaced = await c.findOneAndReplace(
      { p: 1 },
      { q: 'r', p: 1 },
      { returnDocument: 'after', projection: { _id: 0 } },
    );
    expect(replaced).toEqual({ q: 'r', p: 1 });
    const removed = await c.findOneAndDelete({ q: 'w' }, { sort: { p: 1 }, projection: { _id: 0, p: 1 } });
    expect(removed).toEqual({ p: 3 });
    expect(await c.countDocuments({ q: 'w' })).toBe(1);
  });
});

describe('indexes', () => {
  it('lists, enforces and drops unique indexes (E11000 with keyPattern and keyValue)', async () => {
    const c = db.collection('idx');
    expect(await c.createIndex({ email: 1 }, { unique: true })).toBe('email_1');
    await c.createIndex({ a: 1, b: -1 }, { name: 'ab', sparse: true });
    const names = (await c.listIndexes().toArray()).map((i) => i['name']);
    expect(names).toEqual(['_id_', 'email_1', 'ab']);
    await c.insertOne({ email: 'x@y' });
    const err = await c.insertOne({ email: 'x@y' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 11000, keyPattern: { email: 1 }, keyValue: { email: 'x@y' } });
    const { insertedId } = await c.insertOne({ email: 'z@y' });
    expect(await codeOf(c.updateOne({ _id: insertedId }, { $set: { email: 'x@y' } }))).toBe(11000);
    expect(await codeOf(c.findOneAndUpdate({ _id: insertedId }, { $set: { email: 'x@y' } }))).toBe(11000);
    expect(await codeOf(c.updateOne({ email: 'q@y' }, { $set: { email: 'x@y' } }, { upsert: true }))).toBe(
      11000,
    );
    await c.dropIndex('email_1');
    await c.insertOne({ email: 'x@y' });
    expect((await c.listIndexes().toArray()).map((i) => i['name'])).toEqual(['_id_', 'ab']);
    expect(await codeOf(c.dropIndex('nope'))).toBe(27);
    expect(await codeOf(db.collection('missing').listIndexes().toArray())).toBe(26);
  });

  it('refuses a unique index over existing duplicates, and honours sparse and partial filters', async () => {
    const c = db.collection('idx2');
    await c.insertMany([{ k: 1 }, { k: 1 }, { other: true }, { other: true }]);
    expect(await codeOf(c.createIndex({ k: 1 }, { unique: true }))).toBe(11000);
    await c.deleteOne({ k: 1 });
    await c.createIndex({ k: 1 }, { unique: true, sparse: true });
    await c.insertOne({ other: 2 });
    await c.createIndex({ code: 1 }, { unique: true, partialFilterExpression: { live: true } });
    await c.insertMany([
      { code: 'A', live: false },
      { code: 'A', live: true },
    ]);
    expect(await codeOf(c.insertOne({ code: 'A', live: true }))).toBe(11000);
  });

  it('expires documents through a TTL index', { timeout: 120_000 }, async () => {
    const c = db.collection('ttl');
    await c.createIndex({ at: 1 }, { expireAfterSeconds: 0 });
    await c.insertMany([
      { at: new Date(Date.now() - 60_000), old: true },
      { at: new Date(Date.now() + 3_600_000) },
      { noDate: 1 },
    ]);
    // MongoDB's TTL monitor runs every 60 s; the test server sweeps every 200 ms.
    const deadline = Date.now() + (server.real ? 100_000 : 10_000);
    while ((await c.countDocuments({ old: true })) > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(await c.countDocuments({ old: true })).toBe(0);
    expect(await c.countDocuments()).toBe(2);
  });
});

describe('aggregation, distinct and count', () => {
  beforeAll(async () => {
    await db.collection('orders').insertMany([
      { item: 'pen', qty: 2, dept: 'd1', tags: ['blue', 'cheap'] },
      { item: 'ink', qty: 5, dept: 'd1', tags: ['blue'] },
      { item: 'pad', qty: 1, dept: 'd2', tags: [] },
    ]);
    await db
      .collection('depts')
      .insertMany([{ _id: 'd1', name: 'Roads' } as never, { _id: 'd2', name: 'Water' } as never]);
  });

  it('runs $match, $group, $sort, $project, $lookup, $unwind and $facet', async () => {
    const grouped = await db
      .collection('orders')
      .aggregate([
        { $match: { qty: { $gt: 0 } } },
        { $group: { _id: '$dept', total: { $sum: '$qty' }, n: { $sum: 1 } } },
        { $lookup: { from: 'depts', localField: '_id', foreignField: '_id', as: 'dept' } },
        { $unwind: '$dept' },
        { $project: { _id: 0, name: '$dept.name', total: 1, n: 1 } },
        { $sort: { total: -1 } },
      ])
      .toArray();
    expect(grouped).toEqual([
      { total: 7, n: 2, name: 'Roads' },
      { total: 1, n: 1, name: 'Water' },
    ]);
    const [facets] = await db
      .collection('orders')
      .aggregate([
        {
          $facet: {
            count: [{ $count: 'n' }],
            top: [{ $sort: { qty: -1 } }, { $limit: 1 }, { $project: { _id: 0, item: 1 } }],
          },
        },
      ])
      .toArray();
    expect(facets).toEqual({ count: [{ n: 3 }], top: [{ item: 'ink' }] });
  });

  it('returns aggregation results across batches', async () => {
    const docs = await db
      .collection('cursor')
      .aggregate([{ $match: { i: { $lt: 30 } } }, { $sort: { i: -1 } }], { batchSize: 7 })
      .toArray();
    expect(docs).toHaveLength(30);
    expect(docs[0]?.['i']).toBe(29);
  });

  it('counts and lists distinct values (arrays unwound)', async () => {
    const orders = db.collection('orders');
    expect(await orders.countDocuments({ dept: 'd1' })).toBe(2);
    expect(await orders.estimatedDocumentCount()).toBe(3);
    expect((await db.command({ count: 'orders', query: { qty: { $gte: 2 } } }))['n']).toBe(2);
    expect((await orders.distinct('dept')).sort()).toEqual(['d1', 'd2']);
    expect((await orders.distinct('tags', { dept: 'd1' })).sort()).toEqual(['blue', 'cheap']);
  });
});

describe('catalogue commands', () => {
  it('creates, lists and drops collections and databases', async () => {
    const other = client.db(`${server.dbName}_x`);
    await other.createCollection('made');
    expect(await codeOf(other.createCollection('made'))).toBe(48);
    await other.collection('implicit').insertOne({ a: 1 });
    const names = (await other.listCollections().toArray()).map((c) => c.name).sort();
    expect(names).toEqual(['implicit', 'made']);
    const dbs = await client.db().admin().listDatabases();
    expect(dbs.databases.map((d) => d.name)).toContain(`${server.dbName}_x`);
    expect(await other.collection('made').drop()).toBe(true);
    expect(await other.dropDatabase()).toBe(true);
    expect(await other.listCollections().toArray()).toEqual([]);
  });

  it('answers ping and buildInfo, and an unknown command with code 59', async () => {
    expect(await db.command({ ping: 1 })).toMatchObject({ ok: 1 });
    expect(typeof (await db.admin().buildInfo())['version']).toBe('string');
    const err = await db.command({ noSuchCommandHere: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 59, codeName: 'CommandNotFound' });
  });
});

describe('mongoose', () => {
  const caseSchema = new mongoose.Schema(
    {
      ref: { type: String, required: true, unique: true },
      status: { type: String, enum: ['open', 'assigned', 'closed'], default: 'open', index: true },
      priority: { type: Number, default: 0 },
      notes: [{ by: String, text: String }],
    },
    { timestamps: true },
  );
  caseSchema.index({ status: 1, priority: -1, createdAt: 1 });

  let conn: mongoose.Connection;
  beforeAll(async () => {
    conn = await mongoose.createConnection(server.uri).asPromise();
  });
  afterAll(async () => {
    await conn.close();
  });

  it('builds declared indexes and raises MongoServerError 11000 on a duplicate', async () => {
    const Case = conn.model('Case', caseSchema);
    await Case.init();
    const names = (await Case.listIndexes()).map((i: { name?: string }) => i.name).sort();
    expect(names).toEqual(['_id_', 'ref_1', 'status_1', 'status_1_priority_-1_createdAt_1']);
    await Case.create({ ref: 'R-1' });
    const err = await Case.create({ ref: 'R-1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 11000, keyValue: { ref: 'R-1' } });
  });

  it('runs queries, updates with validators, populate-free lean reads and atomic claims', async () => {
    const Case = conn.model('Case', caseSchema);
    await Case.insertMany([
      { ref: 'R-2', priority: 1 },
      { ref: 'R-3', priority: 5 },
    ]);
    const claimed = await Case.findOneAndUpdate(
      { status: 'open' },
      { $set: { status: 'assigned' } },
      { sort: { priority: -1, createdAt: 1 }, returnDocument: 'after' },
    ).lean();
    expect(claimed?.ref).toBe('R-3');
    await Case.updateOne({ ref: 'R-2' }, { $push: { notes: { by: 'amy', text: 'called' } } });
    const r2 = await Case.findOne({ ref: 'R-2' });
    expect(r2?.notes.map((n) => n.text)).toEqual(['called']);
    expect(r2?.createdAt).toBeInstanceOf(Date);
    await expect(
      Case.updateOne({ ref: 'R-2' }, { status: 'bogus' }, { runValidators: true }),
    ).rejects.toThrow(/bogus/);
    expect(await Case.countDocuments({ status: 'open' })).toBe(2);
    expect((await Case.distinct('status')).sort()).toEqual(['assigned', 'open']);
    const byStatus = await Case.aggregate<{ _id: string; n: number }>([
      { $group: { _id: '$status', n: { $sum: 1 } } },
      { $sort: { _id: 1 } },
    ]);
    expect(byStatus).toEqual([
      { _id: 'assigned', n: 1 },
      { _id: 'open', n: 2 },
    ]);
    expect((await Case.deleteMany({ status: 'open' })).deletedCount).toBe(2);
  });
});

describe('lookups by _id', () => {
  it('finds by _id equality and $in, ignoring ids that do not exist', async () => {
    const c = db.collection<{ _id: number; v: string }>('byid');
    await c.insertMany([
      { _id: 1, v: 'a' },
      { _id: 2, v: 'b' },
      { _id: 3, v: 'c' },
    ]);
    expect(await c.findOne({ _id: 2 })).toEqual({ _id: 2, v: 'b' });
    const found = await c.find({ _id: { $in: [3, 1, 9, 1] } }).toArray();
    expect(found.map((d) => d._id).sort()).toEqual([1, 3]);
    expect(await c.countDocuments({ _id: { $in: [2, 7] }, v: 'b' })).toBe(1);
    expect(await c.countDocuments({ _id: { $in: [2, 7] }, v: 'x' })).toBe(0);
  });
});
