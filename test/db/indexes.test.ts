/**
 * Index lookups of the embedded server never change a query's answer: after random sequences of
 * writes (inserts, updates of indexed fields, upserts, pipeline updates, deletes, index creation
 * and removal, TTL expiry, restart from the journal), every equality query returns exactly the
 * documents, in the same order, that a full scan returns, and the TTL sweep (which reads its
 * candidates through the index) finds exactly the expired documents that checking each one finds.
 */
import { EJSON, ObjectId } from 'bson';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand, type CommandContext } from '../../src/db/embedded/commands.js';
import { Cursors } from '../../src/db/embedded/cursors.js';
import { Journal, recover } from '../../src/db/embedded/journal.js';
import { WireServer } from '../../src/db/embedded/server.js';
import { makeIndex, Store } from '../../src/db/embedded/store.js';
import { isDoc, type Doc } from '../../src/db/embedded/values.js';

const DB = 'idx';
const C = 'items';
const IDS = [new ObjectId('64b000000000000000000001'), new ObjectId('64b000000000000000000002')];
const DATES = [new Date(Date.UTC(2025, 0, 1)), new Date(Date.UTC(2025, 0, 2))];
const NOW = Date.UTC(2025, 0, 1, 0, 30);
const SCALARS: unknown[] = ['a', 'b', 'B', 1, 2, 2.5, 0, true, false, null, ...IDS, ...DATES];
const INDEXES: Doc[] = [
  { key: { a: 1 }, name: 'a_1' },
  { key: { a: 1, b: -1 }, name: 'a_1_b_-1' },
  { key: { b: 1 }, name: 'b_1', sparse: true },
  { key: { 'sub.x': 1 }, name: 'sub.x_1' },
  { key: { c: 1 }, name: 'c_1', partialFilterExpression: { kind: 'open' } },
  { key: { u: 1 }, name: 'u_1', unique: true, sparse: true },
  { key: { at: 1 }, name: 'at_1', expireAfterSeconds: 60 },
];

const scalar = fc.constantFrom(...SCALARS);
const value = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.array(fc.array(scalar, { maxLength: 2 }), { maxLength: 2 }) },
);
const field = fc.constantFrom('a', 'b', 'c', 'kind', 'u', 'at');
const eqFilter = fc.oneof(
  fc.tuple(field, scalar).map(([f, v]) => ({ [f]: v })),
  fc.tuple(field, scalar).map(([f, v]) => ({ [f]: { $eq: v } })),
  fc.tuple(field, fc.array(scalar, { minLength: 1, maxLength: 3 })).map(([f, vs]) => ({ [f]: { $in: vs } })),
  scalar.map((v) => ({ 'sub.x': v })),
);

const docArb = fc.record(
  {
    a: value,
    b: value,
    c: value,
    kind: fc.constantFrom('open', 'closed'),
    u: fc.integer({ min: 0, max: 40 }),
    at: fc.constantFrom(...DATES),
    sub: fc.oneof(
      fc.record({ x: value }),
      fc.array(fc.record({ x: value }, { requiredKeys: [] }), { maxLength: 2 }),
    ),
  },
  { requiredKeys: [] },
);

type Op =
  | { t: 'insert'; doc: Doc }
  | { t: 'set'; filter: Doc; field: string; value: unknown; multi: boolean }
  | { t: 'unset'; filter: Doc; field: string }
  | { t: 'inc'; filter: Doc }
  | { t: 'upsert'; filter: Doc; field: string; value: unknown }
  | { t: 'pipeline'; filter: Doc }
  | { t: 'replace'; filter: Doc; doc: Doc }
  | { t: 'delete'; filter: Doc; limit: 0 | 1 }
  | { t: 'fam'; filter: Doc; field: string; value: unknown; remove: boolean }
  | { t: 'drop'; name: string }
  | { t: 'create'; index: number }
  | { t: 'ttl' }
  | { t: 'pack' }
  | { t: 'restart' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: docArb.map((doc): Op => ({ t: 'insert', doc })) },
  {
    weight: 3,
    arbitrary: fc
      .record({ filter: eqFilter, field, value, multi: fc.boolean() })
      .map((r): Op => ({ t: 'set', ...r })),
  },
  { weight: 1, arbitrary: fc.record({ filter: eqFilter, field }).map((r): Op => ({ t: 'unset', ...r })) },
  { weight: 1, arbitrary: fc.record({ filter: eqFilter }).map((r): Op => ({ t: 'inc', ...r })) },
  {
    weight: 2,
    arbitrary: fc.record({ filter: eqFilter, field, value }).map((r): Op => ({ t: 'upsert', ...r })),
  },
  { weight: 1, arbitrary: fc.record({ filter: eqFilter }).map((r): Op => ({ t: 'pipeline', ...r })) },
  {
    weight: 1,
    arbitrary: fc.record({ filter: eqFilter, doc: docArb }).map((r): Op => ({ t: 'replace', ...r })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ filter: eqFilter, limit: fc.constantFrom<0 | 1>(0, 1) })
      .map((r): Op => ({ t: 'delete', ...r })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ filter: eqFilter, field, value, remove: fc.boolean() })
      .map((r): Op => ({ t: 'fam', ...r })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(...INDEXES.map((i) => String(i['name'])))
      .map((name): Op => ({ t: 'drop', name })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: INDEXES.length - 1 }).map((index): Op => ({ t: 'create', index })),
  },
  { weight: 1, arbitrary: fc.constant<Op>({ t: 'ttl' }) },
  { weight: 2, arbitrary: fc.constant<Op>({ t: 'pack' }) },
  { weight: 1, arbitrary: fc.constant<Op>({ t: 'restart' }) },
);

/** A store driven through the command layer, optionally journaled to a folder. */
class Harness {
  store = new Store();
  private ctx: CommandContext;
  private journal: Journal | undefined;

  constructor(private readonly dir: string | undefined) {
    this.ctx = this.context();
  }

  private context(): CommandContext {
    return { store: this.store, cursors: new Cursors(), db: DB, connectionId: 1, remote: 'test' };
  }

  async open(): Promise<void> {
    if (!this.dir) return;
    this.store = new Store();
    const recovered = recover(this.dir, () => undefined);
    for (const r of recovered.snapshot) this.store.replay(r);
    for (const r of recovered.journal) this.store.replay(r);
    const store = this.store;
    this.journal = await Journal.open({
      dir: this.dir,
      generation: recovered.generation,
      snapshot: () => store.snapshotRecords(),
      compactAfterBytes: 64 * 1024 * 1024,
      log: () => undefined,
    });
    this.store.journal = this.journal;
    this.ctx = this.context();
  }

  async close(): Promise<void> {
    await this.journal?.close();
    this.journal = undefined;
  }

  run(body: Doc): Promise<Doc> {
    return runCommand(body, this.ctx);
  }

  async find(filter: Doc, sort?: Doc): Promise<string> {
    const reply = await this.run({ find: C, filter, ...(sort ? { sort } : {}), batchSize: 100_000 });
    const cursor = reply['cursor'];
    if (!isDoc(cursor)) return EJSON.stringify(reply);
    return EJSON.stringify(cursor['firstBatch'], { relaxed: false });
  }

  /** The same query with index lookups and with a full scan. */
  async both(filter: Doc, sort?: Doc): Promise<{ indexed: string; scanned: string }> {
    this.store.indexLookups = true;
    const indexed = await this.find(filter, sort);
    this.store.indexLookups = false;
    const scanned = await this.find(filter, sort);
    this.store.indexLookups = true;
    return { indexed, scanned };
  }

  /** What a TTL sweep at NOW would delete, found through the index and by checking every document. */
  expiredBoth(): { indexed: string[]; scanned: string[] } {
    const ids = (): string[] =>
      (this.store.get(DB, C)?.expired(NOW) ?? []).map((d) => EJSON.stringify(d['_id'])).sort();
    this.store.indexLookups = true;
    const indexed = ids();
    this.store.indexLookups = false;
    const scanned = ids();
    this.store.indexLookups = true;
    return { indexed, scanned };
  }

  async apply(op: Op): Promise<void> {
    switch (op.t) {
      case 'insert':
        await this.run({ insert: C, documents: [op.doc] });
        return;
      case 'set':
        await this.run({
          update: C,
          updates: [{ q: op.filter, u: { $set: { [op.field]: op.value } }, multi: op.multi }],
        });
        return;
      case 'unset':
        await this.run({
          update: C,
          updates: [{ q: op.filter, u: { $unset: { [op.field]: '' } }, multi: true }],
        });
        return;
      case 'inc':
        await this.run({ update: C, updates: [{ q: op.filter, u: { $inc: { u: 1 } }, multi: true }] });
        return;
      case 'upsert':
        await this.run({
          update: C,
          updates: [{ q: op.filter, u: { $set: { [op.field]: op.value } }, upsert: true }],
        });
        return;
      case 'pipeline':
        await this.run({
          update: C,
          updates: [{ q: op.filter, u: [{ $set: { b: '$a', c: '$b' } }], multi: true }],
        });
        return;
      case 'replace':
        await this.run({ update: C, updates: [{ q: op.filter, u: op.doc }] });
        return;
      case 'delete':
        await this.run({ delete: C, deletes: [{ q: op.filter, limit: op.limit }] });
        return;
      case 'fam':
        await this.run({
          findAndModify: C,
          query: op.filter,
          sort: { u: 1 },
          ...(op.remove
            ? { remove: true }
            : { update: { $set: { [op.field]: op.value } }, upsert: true, new: true }),
        });
        return;
      case 'drop':
        await this.run({ dropIndexes: C, index: op.name });
        return;
      case 'create':
        await this.run({ createIndexes: C, indexes: [INDEXES[op.index]] });
        return;
      case 'ttl': {
        const server = new WireServer({
          store: this.store,
          log: () => undefined,
          ttlIntervalMs: 60_000,
          packAfterMs: false,
        });
        await server.sweepTtl(NOW);
        await server.close();
        return;
      }
      case 'pack':
        this.store.cool(0);
        return;
      case 'restart':
        await this.close();
        await this.open();
        return;
    }
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Queries checked after every operation: each indexed field against every test value. */
function probes(): { filter: Doc; sort?: Doc }[] {
  const out: { filter: Doc; sort?: Doc }[] = [];
  for (const v of SCALARS) {
    for (const f of ['a', 'b', 'c', 'u', 'at', 'sub.x']) out.push({ filter: { [f]: v } });
    out.push({ filter: { a: v, b: { $exists: false } } });
    out.push({ filter: { $or: [{ at: { $exists: false } }, { u: v }] } });
    out.push({ filter: { c: v, kind: 'open' } });
    out.push({ filter: { a: { $in: [v, 'a'] }, b: v } });
    out.push({ filter: { a: v }, sort: { b: 1 } });
    out.push({ filter: { a: { $eq: v }, b: { $ne: 1 } } });
    for (const w of ['a', 1, null, IDS[0]]) out.push({ filter: { a: v, b: { $in: [w, 2] } } });
    // `$or`: every branch pinned (a union of lookups), nested, or one branch needing the scan.
    out.push({ filter: { $or: [{ a: v }, { b: v }, { c: v, kind: 'open' }] } });
    out.push({ filter: { kind: 'open', $or: [{ 'sub.x': v }, { $or: [{ u: v }, { at: v }] }] } });
    out.push({ filter: { $or: [{ a: v }, { kind: 'closed' }] } });
    out.push({ filter: { a: { $in: [v, 1] }, $or: [{ b: v }, { u: 1, c: 'a' }] } });
  }
  for (const f of ['a', 'b', 'c', 'u', 'at', 'sub.x']) out.push({ filter: { [f]: { $exists: false } } });
  out.push({ filter: { c: { $exists: false }, kind: 'open' } });
  return out;
}

/** An answer with the ids the server generated (inserts, upserts) numbered by first appearance. */
function sameIds(answer: string): string {
  const known = new Set(IDS.map((id) => id.toHexString()));
  const seen = new Map<string, number>();
  return answer.replace(/"\$oid":"([0-9a-f]{24})"/g, (all, hex: string) => {
    if (known.has(hex)) return all;
    const n = seen.get(hex) ?? seen.size;
    seen.set(hex, n);
    return `"$oid":"#${n}"`;
  });
}

async function checkAll(h: Harness): Promise<void> {
  for (const { filter, sort } of probes()) {
    const { indexed, scanned } = await h.both(filter, sort);
    expect(indexed, EJSON.stringify({ filter, sort })).toBe(scanned);
  }
  const expiry = h.expiredBoth();
  expect(expiry.indexed, 'documents the TTL sweep deletes').toEqual(expiry.scanned);
}

describe('embedded server index lookups', () => {
  it('answer equality queries exactly as a full scan does, in memory', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          opArb.filter((o) => o.t !== 'restart'),
          { maxLength: 25 },
        ),
        async (ops) => {
          const h = new Harness(undefined);
          await h.run({ createIndexes: C, indexes: INDEXES });
          for (const op of ops) {
            await h.apply(op);
            await checkAll(h);
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);

  it('answer equality queries exactly as a full scan does, across restarts from the journal', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 20 }), async (ops) => {
        const dir = mkdtempSync(join(tmpdir(), 'embedded-idx-'));
        dirs.push(dir);
        const h = new Harness(dir);
        await h.open();
        try {
          await h.run({ createIndexes: C, indexes: INDEXES });
          for (const op of ops) await h.apply(op);
          await checkAll(h);
          await h.apply({ t: 'restart' });
          await checkAll(h);
        } finally {
          await h.close();
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it('answer every query the same whether the documents are packed or not', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          opArb.filter((o) => o.t !== 'restart' && o.t !== 'pack'),
          { maxLength: 25 },
        ),
        async (ops) => {
          const plain = new Harness(undefined);
          const packed = new Harness(undefined);
          for (const h of [plain, packed]) await h.run({ createIndexes: C, indexes: INDEXES });
          for (const op of ops) {
            await plain.apply(op);
            await packed.apply(op);
            // Every document, not only those this operation wrote: writes meet packed documents.
            packed.store.cool(0);
            expect(sameIds(await packed.find({}))).toBe(sameIds(await plain.find({})));
            for (const { filter, sort } of probes())
              expect(sameIds(await packed.find(filter, sort)), EJSON.stringify({ filter, sort })).toBe(
                sameIds(await plain.find(filter, sort)),
              );
            const expiry = (h: Harness): string => sameIds(Object.values(h.expiredBoth()).flat().join());
            expect(expiry(packed)).toBe(expiry(plain));
          }
        },
      ),
      { numRuns: 30 },
    );
  }, 120_000);

  it('reads only the matching documents when the filter pins an indexed field', async () => {
    const h = new Harness(undefined);
    await h.run({ createIndexes: C, indexes: [{ key: { ref: 1 }, name: 'ref_1', unique: true }] });
    await h.run({ insert: C, documents: Array.from({ length: 500 }, (_, i) => ({ ref: `R-${i}`, n: i })) });
    const coll = h.store.get(DB, C);
    expect(coll?.lookupCandidates({ ref: 'R-42' }, false)?.map((d) => d['n'])).toEqual([42]);
    expect(coll?.lookupCandidates({ ref: { $in: ['R-9', 'R-3'] } }, false)?.map((d) => d['n'])).toEqual([
      3, 9,
    ]);
    // Every branch of an `$or` pins the index: the union, in natural order.
    expect(
      coll
        ?.lookupCandidates({ $or: [{ ref: 'R-9' }, { ref: 'R-3' }, { ref: 'R-9' }] }, false)
        ?.map((d) => d['n']),
    ).toEqual([3, 9]);
    expect(coll?.lookupCandidates({ $or: [{ ref: 'R-9' }, { n: 3 }] }, false)).toBeUndefined();
    await h.run({ update: C, updates: [{ q: { ref: 'R-42' }, u: { $set: { ref: 'R-1000' } } }] });
    expect(coll?.lookupCandidates({ ref: 'R-42' }, false)).toEqual([]);
    expect(await h.find({ ref: 'R-1000' })).toContain('"n":{"$numberInt":"42"}');
    // A collation changes string equality, so the lookup steps aside.
    expect(coll?.lookupCandidates({ ref: 'R-42' }, true)).toBeUndefined();
    expect(coll?.lookupCandidates({ n: 42 }, false)).toBeUndefined();
    // Pinned fields and an `$or`: the intersection (the inbox asks for a conversation's unfinished messages).
    await h.run({ createIndexes: C, indexes: [{ key: { n: 1 }, name: 'n_1' }] });
    expect(
      coll
        ?.lookupCandidates(
          { ref: { $in: ['R-1', 'R-2', 'R-3'] }, $or: [{ n: 2 }, { n: 3 }, { n: 4 }] },
          false,
        )
        ?.map((d) => d['n']),
    ).toEqual([2, 3]);
  });

  it('expires many documents that share one date (a retention sweep dates them alike)', () => {
    const store = new Store();
    const coll = store.ensure(DB, C, {});
    coll.addIndex(makeIndex({ key: { at: 1 }, name: 'at_1', expireAfterSeconds: 0 }));
    const n = 200_000;
    for (let i = 0; i < n; i += 1) coll.put({ _id: i, at: DATES[0] });
    coll.put({ _id: 'later', at: DATES[1] });
    const expired = coll.expired(NOW);
    expect(expired).toHaveLength(n);
    expect(expired.some((d) => d['_id'] === 'later')).toBe(false);
  });

  it('narrows a compound index by its first two fields when both are pinned', async () => {
    const h = new Harness(undefined);
    await h.run({ createIndexes: C, indexes: [{ key: { channel: 1, pid: 1 }, name: 'channel_1_pid_1' }] });
    await h.run({
      insert: C,
      documents: Array.from({ length: 300 }, (_, i) => ({ channel: 'telegram', pid: i })),
    });
    const coll = h.store.get(DB, C);
    expect(coll?.lookupCandidates({ channel: 'telegram', pid: 7 }, false)?.map((d) => d['pid'])).toEqual([7]);
    expect(coll?.lookupCandidates({ channel: 'telegram' }, false)).toHaveLength(300);
    expect(coll?.lookupCandidates({ channel: 'whatsapp', pid: 7 }, false)).toEqual([]);
  });
});
