import { calculateObjectSize, ObjectId, UUID } from 'bson';
import { Aggregator, Context, find as mingoFind, Query, update as mingoUpdate } from 'mingo';
import { Query as BareQuery } from 'mingo/query';
import type { Options } from 'mingo/types';
import type { Modifier } from 'mingo/updater';
import { compare } from 'mingo/util';
import { hostname } from 'node:os';
import { CommandError, asCommandError } from './errors.js';
import { collectionName, optArray, optBool, optDoc, optDocs, optNumber, optString } from './fields.js';
import { checkFilter, compileProjection, matcher, type Matcher } from './match.js';
import { fastUpdate } from './update-fast.js';
import { cursorId } from './wire.js';
import type { Cursors } from './cursors.js';
import type { Collection, Store, WriteSet } from './store.js';
import { isDoc, keyOf, valueAt, valuesAt, type Doc } from './values.js';

/** What a command handler can see. */
export interface CommandContext {
  store: Store;
  cursors: Cursors;
  db: string;
  connectionId: number;
  remote: string;
}

type Handler = (body: Doc, ctx: CommandContext, name: string) => Doc | Promise<Doc>;

/** The wire version we claim: MongoDB 7.0. The driver (v7) needs at least 9 (MongoDB 4.4). */
export const MAX_WIRE_VERSION = 21;
/** The server version reported by buildInfo, matching {@link MAX_WIRE_VERSION}. */
export const SERVER_VERSION = '7.0.0';
const MAX_BSON = 16 * 1024 * 1024;
/** Mingo runs no user JavaScript ($where, $function, $accumulator): a database must not execute its clients' strings. */
const QUERY_OPTIONS = { scriptEnabled: false } as const;

/**
 * mingo's compiled options (operator table included), captured once through a custom query
 * operator: `new Query(filter, options)` copies the ~400-operator table on every call unless it
 * is handed options mingo compiled itself, which it then reuses. Undefined if mingo ever stops
 * handing them over (queries then build their own, as before).
 */
const COMPILED_OPTIONS: Options | undefined = (() => {
  let captured: Options | undefined;
  const capture = Context.init().addQueryOps({
    $__captureOptions: (_selector: string, _value: unknown, options: Options) => {
      // Clients' filters naming it get mingo's usual answer.
      if (captured) throw new CommandError('BadValue', 'unknown query operator $__captureOptions');
      captured = options;
      return () => true;
    },
  });
  new Query({ x: { $__captureOptions: 1 } }, { ...QUERY_OPTIONS, context: capture });
  return captured;
})();

function query(filter: Doc): Query | BareQuery {
  try {
    return COMPILED_OPTIONS ? new BareQuery(filter, COMPILED_OPTIONS) : new Query(filter, QUERY_OPTIONS);
  } catch (err) {
    throw asCommandError(err);
  }
}

let fastPaths = true;

/**
 * Turns the compiled filters, projections and updates off (mingo does everything, as before
 * they existed) or back on: the equivalence tests run the same commands both ways.
 */
export function setFastPaths(on: boolean): void {
  fastPaths = on;
}

/** A filter's matcher: compiled for the common shapes, mingo's (same answers) for the rest. */
function matcherOf(filter: Doc): Matcher {
  return fastPaths ? matcher(filter, () => query(filter)) : query(filter);
}

/** {@link matcherOf}, after refusing a filter MongoDB would refuse, whatever the documents. */
function filterMatcher(filter: Doc): Matcher {
  checkFilter(filter);
  return matcherOf(filter);
}

/**
 * Documents that may match: a direct lookup when the filter pins `_id` to a plain value, else the
 * index lookup maps when the filter pins an index's first field, else the whole collection.
 */
function candidates(coll: Collection | undefined, filter: Doc, collated = false): Doc[] {
  if (!coll) return [];
  const id = filter['_id'];
  if (
    id !== undefined &&
    !(isDoc(id) && Object.keys(id).some((k) => k.startsWith('$'))) &&
    !(id instanceof RegExp)
  ) {
    const doc = coll.docs.get(keyOf(id));
    return doc ? [doc] : [];
  }
  // `{ _id: { $in: [...] } }` is what populate sends; scalar ids are looked up directly.
  if (isDoc(id) && Object.keys(id).length === 1 && Array.isArray(id['$in'])) {
    const ids = id['$in'];
    const scalar = (v: unknown): boolean =>
      v !== null && v !== undefined && !Array.isArray(v) && !isDoc(v) && !(v instanceof RegExp);
    if (ids.every(scalar)) {
      const out: Doc[] = [];
      for (const key of new Set(ids.map(keyOf))) {
        const doc = coll.docs.get(key);
        if (doc) out.push(doc);
      }
      return out;
    }
  }
  return coll.lookupCandidates(filter, collated) ?? [...coll.docs.values()];
}

/** Splits a sort spec into mingo's part and a `$natural` direction. */
function sortSpec(sort: Doc | undefined): { spec: Record<string, 1 | -1> | undefined; natural: number } {
  if (!sort) return { spec: undefined, natural: 0 };
  const spec: Record<string, 1 | -1> = {};
  let natural = 0;
  for (const [k, v] of Object.entries(sort)) {
    const dir = typeof v === 'number' ? v : isDoc(v) ? 1 : Number(v);
    if (dir !== 1 && dir !== -1)
      throw new CommandError('BadValue', `Illegal key in $sort specification: ${k}: ${String(v)}`);
    if (k === '$natural') natural = dir;
    else spec[k] = dir;
  }
  return { spec: Object.keys(spec).length ? spec : undefined, natural };
}

interface Selection {
  filter: Doc;
  sort?: Doc | undefined;
  skip?: number | undefined;
  limit?: number | undefined;
  projection?: Doc | undefined;
  collation?: Doc | undefined;
}

/** A count mingo's cursor and the plain loops below read alike: absent, or a whole number ≥ 0. */
function plainCount(n: number | undefined): boolean {
  return n === undefined || (Number.isInteger(n) && n >= 0);
}

/**
 * Runs filter, sort, skip, limit and projection: compiled filter and plain loops when there is no
 * collation, mingo's cursor otherwise (and for sort keys or counts the loops do not handle).
 */
function select(coll: Collection | undefined, sel: Selection): Doc[] {
  // First, as MongoDB parses the filter before it looks at the sort, projection or any document.
  checkFilter(sel.filter);
  const collation = collationOption(sel.collation);
  let source = candidates(coll, sel.filter, collation.collation !== undefined);
  const { spec, natural } = sortSpec(sel.sort);
  if (natural === -1) source = source.slice().reverse();
  if (
    fastPaths
      ? !collation.collation && (spec || (plainCount(sel.skip) && plainCount(sel.limit)))
      : spec && !sel.collation
  ) {
    const m = matcherOf(sel.filter); // checked above
    if (spec) {
      const fast = fastSort(source, sel, spec, m);
      if (fast) return fast;
    } else {
      const skip = sel.skip ?? 0;
      const limit = sel.limit || Infinity;
      const picked: Doc[] = [];
      let skipped = 0;
      for (const doc of source) {
        if (!m.test(doc)) continue;
        if (skipped < skip) skipped += 1;
        else if (picked.push(doc) >= limit) break;
      }
      return projectAll(picked, sel.projection);
    }
  }
  try {
    const cursor = collation.collation
      ? mingoFind(source, sel.filter, sel.projection ?? {}, { ...QUERY_OPTIONS, ...collation })
      : query(sel.filter).find(source, sel.projection ?? {});
    if (spec) cursor.sort(spec);
    if (sel.skip) cursor.skip(sel.skip);
    if (sel.limit) cursor.limit(sel.limit);
    return cursor.all().filter(isDoc);
  } catch (err) {
    throw asCommandError(err);
  }
}

/**
 * Sort without mingo's group-by sort when every sort key holds a scalar: a plain comparator, and a
 * single linear scan for `limit: 1` (the queue's claim). Arrays and sub-documents as sort keys
 * fall back to mingo, which knows MongoDB's rules for them.
 */
function fastSort(
  source: Doc[],
  sel: Selection,
  spec: Record<string, 1 | -1>,
  q: Matcher,
): Doc[] | undefined {
  const fields = Object.entries(spec);
  const paths = fields.map(([f]) => f);
  const rows: { doc: Doc; keys: unknown[] }[] = [];
  for (const doc of source) {
    if (!q.test(doc)) continue;
    const keys = paths.map((f) => (f.includes('.') ? valueAt(doc, f) : doc[f]));
    if (keys.some((k) => Array.isArray(k) || isDoc(k))) return undefined;
    rows.push({ doc, keys });
  }
  const cmp = (a: { keys: unknown[] }, b: { keys: unknown[] }): number => {
    for (let i = 0; i < fields.length; i++) {
      const c = compare(a.keys[i], b.keys[i]);
      if (c !== 0) return (fields[i]?.[1] ?? 1) * c;
    }
    return 0;
  };
  const skip = sel.skip ?? 0;
  let picked: Doc[];
  if (sel.limit === 1 && skip === 0) {
    let best = rows[0];
    for (const row of rows) if (best && cmp(row, best) < 0) best = row;
    picked = best ? [best.doc] : [];
  } else {
    rows.sort(cmp);
    const end = sel.limit ? skip + sel.limit : undefined;
    picked = rows.slice(skip, end).map((r) => r.doc);
  }
  return projectAll(picked, sel.projection);
}

/** Projects documents: top-level inclusions and exclusions directly, anything else through mingo. */
function projectAll(docs: Doc[], projection: Doc | undefined): Doc[] {
  if (!projection || Object.keys(projection).length === 0) return docs;
  const fast = fastPaths ? compileProjection(projection) : undefined;
  if (fast) return docs.map(fast);
  try {
    return query({}).find(docs, projection).all().filter(isDoc);
  } catch (err) {
    throw asCommandError(err);
  }
}

function collationOption(collation: Doc | undefined): {
  collation?: { locale: string; strength?: 1 | 2 | 3 };
} {
  if (!collation || typeof collation['locale'] !== 'string' || collation['locale'] === 'simple') return {};
  const s = collation['strength'];
  return {
    collation: { locale: collation['locale'], ...(s === 1 || s === 2 || s === 3 ? { strength: s } : {}) },
  };
}

function project(doc: Doc, projection: Doc | undefined): Doc {
  return projectAll([doc], projection)[0] ?? doc;
}

/** A deep copy of a stored document: updates work on it and swap it in, so cursors keep their snapshot. */
function clone(doc: Doc): Doc {
  return structuredCloneBson(doc);
}

function structuredCloneBson(value: Doc): Doc {
  const out: Doc = {};
  for (const [k, v] of Object.entries(value)) out[k] = cloneValue(v);
  return out;
}

function cloneValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(cloneValue);
  if (v instanceof Date) return new Date(v.getTime());
  if (isDoc(v)) return structuredCloneBson(v);
  // ObjectId, Binary, Decimal128 and friends are never mutated in place.
  return v;
}

/**
 * `keyOf(a) === keyOf(b)` (the test for "the update changed nothing"), without rendering the
 * parts an update copy shares with the stored document: those are the same objects.
 */
function sameKey(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isDoc(a) && isDoc(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (let i = 0; i < ka.length; i++) {
      const k = ka[i] ?? '';
      if (k !== kb[i] || !sameKey(a[k], b[k])) return false;
    }
    return true;
  }
  return keyOf(a) === keyOf(b);
}

/** Puts `_id` first, generating an ObjectId when missing, as mongod does on insert. */
function withId(doc: Doc): Doc {
  const id = doc['_id'] === undefined ? new ObjectId() : doc['_id'];
  if (Array.isArray(id)) throw new CommandError('BadValue', "The '_id' value cannot be of type array");
  if (id instanceof RegExp) throw new CommandError('BadValue', "The '_id' value cannot be of type regex");
  if (Object.keys(doc)[0] === '_id' && doc['_id'] !== undefined) return doc;
  const out: Doc = { _id: id };
  for (const [k, v] of Object.entries(doc)) if (k !== '_id') out[k] = v;
  return out;
}

function checkSize(doc: Doc): void {
  const size = calculateObjectSize(doc);
  if (size > MAX_BSON) {
    throw new CommandError(
      'BSONObjectTooLarge',
      `object to insert too large. size in bytes: ${size}, max size: ${MAX_BSON}`,
    );
  }
}

function isOperatorUpdate(u: Doc): boolean {
  const keys = Object.keys(u);
  const ops = keys.filter((k) => k.startsWith('$'));
  if (ops.length > 0 && ops.length !== keys.length) {
    throw new CommandError(
      'FailedToParse',
      'Update document must contain only atomic operators or be a replacement',
    );
  }
  return ops.length > 0;
}

function setPath(doc: Doc, path: string, value: unknown): void {
  const parts = path.split('.');
  let node: Doc = doc;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (isDoc(next)) node = next;
    else {
      const fresh: Doc = {};
      node[part] = fresh;
      node = fresh;
    }
  }
  node[parts.at(-1) ?? path] = cloneValue(value);
}

/** The document an upsert starts from: the equality conditions of its filter, as mongod builds it. */
function upsertSeed(filter: Doc, into: Doc = {}): Doc {
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' && Array.isArray(v)) {
      for (const sub of v) if (isDoc(sub)) upsertSeed(sub, into);
      continue;
    }
    if (k.startsWith('$')) continue;
    if (isDoc(v) && Object.keys(v).some((x) => x.startsWith('$'))) {
      if ('$eq' in v) setPath(into, k, v['$eq']);
      continue;
    }
    if (v instanceof RegExp) continue;
    setPath(into, k, v);
  }
  return into;
}

/**
 * Applies an update (operators, replacement or pipeline) to a copy of `doc`. `inserting` marks
 * an upsert's new document, where `$setOnInsert` applies (mingo does not know that operator).
 */
function applyUpdate(
  doc: Doc,
  u: Doc | Doc[],
  filter: Doc,
  arrayFilters: Doc[] | undefined,
  inserting: boolean,
): Doc {
  const before = doc['_id'];
  let out: Doc;
  if (Array.isArray(u)) {
    try {
      const res = new Aggregator(u, QUERY_OPTIONS).run([clone(doc)]);
      const first = res[0];
      if (!isDoc(first)) throw new CommandError('BadValue', 'update pipeline produced no document');
      out = first;
    } catch (err) {
      throw asCommandError(err);
    }
    if (out['_id'] === undefined) out = { _id: before, ...out };
  } else if (isOperatorUpdate(u)) {
    // Stored documents are never changed in place: the result is a copy (or `doc` itself when
    // nothing applies, e.g. `$setOnInsert` alone on an existing document).
    out = doc;
    const modifier: Doc = {};
    for (const [op, expr] of Object.entries(u)) {
      if (op === '$setOnInsert') {
        if (inserting && isDoc(expr))
          modifier['$set'] = { ...(isDoc(modifier['$set']) ? modifier['$set'] : {}), ...expr };
      } else if (op === '$set' && isDoc(modifier['$set'])) {
        modifier['$set'] = { ...expr_(expr), ...modifier['$set'] };
      } else modifier[op] = expr;
    }
    if (Object.keys(modifier).length) {
      for (const [op, expr] of Object.entries(modifier)) {
        if (!isDoc(expr))
          throw new CommandError(
            'FailedToParse',
            `Modifiers operate on fields but we found type ${typeof expr} instead. For example: {$mod: {<field>: ...}} not {${op}: ${String(expr)}}`,
          );
        for (const path of Object.keys(expr)) {
          if (path === '_id' || path.startsWith('_id.')) {
            if (!(inserting || (op === '$set' && keyOf(expr[path]) === keyOf(before)))) {
              throw new CommandError(
                'ImmutableField',
                `Performing an update on the path '_id' would modify the immutable field '_id'`,
              );
            }
          }
        }
      }
      const fast = fastPaths ? fastUpdate(doc, modifier) : undefined;
      if (fast) out = fast;
      else
        try {
          out = clone(doc);
          // Only the positional `$` needs the filter; skipping it saves compiling the query twice.
          const positional = Object.values(modifier).some(
            (e) => isDoc(e) && Object.keys(e).some((p) => /(^|\.)\$(\.|$)/.test(p)),
          );
          mingoUpdate(out, toModifier(modifier), arrayFilters, inserting || !positional ? {} : filter, {
            cloneMode: 'deep',
            queryOptions: QUERY_OPTIONS,
          });
        } catch (err) {
          throw asCommandError(err);
        }
    }
  } else {
    if (u['_id'] !== undefined && !inserting && keyOf(u['_id']) !== keyOf(before)) {
      throw new CommandError(
        'ImmutableField',
        `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${String(u['_id'])}`,
      );
    }
    out = { _id: u['_id'] ?? before };
    for (const [k, v] of Object.entries(u)) if (k !== '_id') out[k] = cloneValue(v);
  }
  if (!inserting && keyOf(out['_id']) !== keyOf(before)) {
    throw new CommandError(
      'ImmutableField',
      `After applying the update, the (immutable) field '_id' was found to have been altered`,
    );
  }
  return withId(out);
}

function expr_(v: unknown): Doc {
  return isDoc(v) ? v : {};
}

function toModifier(modifier: Doc): Modifier<Doc> {
  const out: Modifier<Doc> = {};
  for (const [op, expr] of Object.entries(modifier)) {
    if (!isDoc(expr)) continue;
    switch (op) {
      case '$set':
      case '$unset':
      case '$inc':
      case '$mul':
      case '$min':
      case '$max':
      case '$push':
      case '$addToSet':
      case '$pull':
      case '$pullAll':
      case '$pop':
      case '$rename':
      case '$bit':
      case '$currentDate':
        Object.assign(out, { [op]: expr });
        break;
      default:
        throw new CommandError(
          'FailedToParse',
          `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
        );
    }
  }
  return out;
}

function updateSpec(spec: Doc): Doc | Doc[] {
  const u = spec['u'];
  if (Array.isArray(u)) return u.filter(isDoc);
  if (isDoc(u)) return u;
  throw new CommandError('FailedToParse', "BSON field 'update.updates.u' is missing but a required field");
}

function cursorReply(ns: string, batch: { docs: Doc[]; id: number }, first: boolean): Doc {
  return { cursor: { [first ? 'firstBatch' : 'nextBatch']: batch.docs, id: cursorId(batch.id), ns }, ok: 1 };
}

function batchSizeOf(body: Doc): number | undefined {
  const cursor = optDoc(body, 'cursor');
  return cursor ? optNumber(cursor, 'batchSize') : undefined;
}

function rejectTransactions(body: Doc): void {
  if (body['startTransaction'] !== undefined || body['autocommit'] !== undefined) {
    throw new CommandError(
      'IllegalOperation',
      'Transaction numbers are only allowed on a replica set member or mongos',
    );
  }
}

function writeReply(n: number, writeErrors: Doc[], extra: Doc = {}): Doc {
  return { n, ...extra, ...(writeErrors.length ? { writeErrors } : {}), ok: 1 };
}

async function committed(w: WriteSet, reply: Doc): Promise<Doc> {
  await w.commit();
  return reply;
}

const insert: Handler = (body, ctx) => {
  const name = collectionName(body, 'insert');
  const docs = optDocs(body, 'documents') ?? [];
  const ordered = optBool(body, 'ordered') ?? true;
  const w = ctx.store.begin();
  const { coll } = w.collection(ctx.db, name);
  let n = 0;
  const writeErrors: Doc[] = [];
  docs.forEach((raw, index) => {
    if (ordered && writeErrors.length) return;
    try {
      const doc = withId(raw);
      checkSize(doc);
      w.put(coll, doc, false);
      n += 1;
    } catch (err) {
      writeErrors.push(asCommandError(err).toWriteError(index));
    }
  });
  return committed(w, writeReply(n, writeErrors));
};

const update: Handler = (body, ctx) => {
  const name = collectionName(body, 'update');
  const specs = optDocs(body, 'updates') ?? [];
  const ordered = optBool(body, 'ordered') ?? true;
  const w = ctx.store.begin();
  let n = 0;
  let nModified = 0;
  const upserted: Doc[] = [];
  const writeErrors: Doc[] = [];
  specs.forEach((spec, index) => {
    if (ordered && writeErrors.length) return;
    try {
      const filter = optDoc(spec, 'q') ?? {};
      const u = updateSpec(spec);
      const multi = optBool(spec, 'multi') ?? false;
      const upsert = optBool(spec, 'upsert') ?? false;
      const arrayFilters = optDocs(spec, 'arrayFilters');
      if (multi && !Array.isArray(u) && !isOperatorUpdate(u)) {
        throw new CommandError('FailedToParse', 'multi update is not supported for replacement-style update');
      }
      const existing = ctx.store.get(ctx.db, name);
      const matched = select(existing, {
        filter,
        sort: optDoc(spec, 'sort'),
        limit: multi ? undefined : 1,
        collation: optDoc(spec, 'collation'),
      });
      if (matched.length === 0) {
        if (!upsert) return;
        const seed = upsertSeed(filter);
        const doc = applyUpdate(seed, u, filter, arrayFilters, true);
        checkSize(doc);
        const { coll } = w.collection(ctx.db, name);
        w.put(coll, doc, false);
        n += 1;
        upserted.push({ index, _id: doc['_id'] });
        return;
      }
      const coll = w.collection(ctx.db, name).coll;
      for (const doc of matched) {
        const current = coll.docs.get(keyOf(doc['_id']));
        if (!current) continue;
        const next = applyUpdate(current, u, filter, arrayFilters, false);
        n += 1;
        if (sameKey(next, current)) continue;
        checkSize(next);
        w.put(coll, next, true);
        nModified += 1;
      }
    } catch (err) {
      writeErrors.push(asCommandError(err).toWriteError(index));
    }
  });
  return committed(w, writeReply(n, writeErrors, { nModified, ...(upserted.length ? { upserted } : {}) }));
};

const del: Handler = (body, ctx) => {
  const name = collectionName(body, 'delete');
  const specs = optDocs(body, 'deletes') ?? [];
  const ordered = optBool(body, 'ordered') ?? true;
  const w = ctx.store.begin();
  let n = 0;
  const writeErrors: Doc[] = [];
  specs.forEach((spec, index) => {
    if (ordered && writeErrors.length) return;
    try {
      const limit = optNumber(spec, 'limit') ?? 0;
      if (limit !== 0 && limit !== 1)
        throw new CommandError(
          'FailedToParse',
          'The limit field in delete objects must be 0 or 1. Got ' + String(limit),
        );
      const coll = ctx.store.get(ctx.db, name);
      if (!coll) return;
      const matched = select(coll, {
        filter: optDoc(spec, 'q') ?? {},
        limit: limit || undefined,
        collation: optDoc(spec, 'collation'),
      });
      for (const doc of matched) {
        w.remove(coll, doc);
        n += 1;
      }
    } catch (err) {
      writeErrors.push(asCommandError(err).toWriteError(index));
    }
  });
  return committed(w, writeReply(n, writeErrors));
};

const findAndModify: Handler = (body, ctx, cmd) => {
  const name = collectionName(body, cmd);
  const filter = optDoc(body, 'query') ?? {};
  const remove = optBool(body, 'remove') ?? false;
  const rawUpdate = body['update'];
  const returnNew = optBool(body, 'new') ?? false;
  const upsert = optBool(body, 'upsert') ?? false;
  const fields = optDoc(body, 'fields');
  const arrayFilters = optDocs(body, 'arrayFilters');
  if (remove && rawUpdate !== undefined)
    throw new CommandError('FailedToParse', 'Cannot specify both an update and remove=true');
  if (!remove && rawUpdate === undefined)
    throw new CommandError('FailedToParse', 'Either an update or remove=true must be specified');
  if (remove && upsert)
    throw new CommandError('FailedToParse', 'Cannot specify both upsert=true and remove=true');
  if (remove && returnNew)
    throw new CommandError(
      'FailedToParse',
      "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document",
    );
  const u: Doc | Doc[] | undefined = Array.isArray(rawUpdate)
    ? rawUpdate.filter(isDoc)
    : isDoc(rawUpdate)
      ? rawUpdate
      : undefined;
  if (!remove && u === undefined)
    throw new CommandError('FailedToParse', 'Update argument must be either an object or an array');
  const w = ctx.store.begin();
  const existing = ctx.store.get(ctx.db, name);
  // Everything below is synchronous: the match and the write happen in one turn of the event loop.
  const target = select(existing, {
    filter,
    sort: optDoc(body, 'sort'),
    limit: 1,
    collation: optDoc(body, 'collation'),
  })[0];
  const current = target && existing ? existing.docs.get(keyOf(target['_id'])) : undefined;
  if (remove) {
    if (!current || !existing) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
    // Projected before writing: a projection error must not leave an unjournaled change in memory.
    const value = project(current, fields);
    w.remove(existing, current);
    return committed(w, { lastErrorObject: { n: 1 }, value, ok: 1 });
  }
  if (u === undefined)
    throw new CommandError('FailedToParse', 'Update argument must be either an object or an array');
  if (current && existing) {
    const next = applyUpdate(current, u, filter, arrayFilters, false);
    const value = project(returnNew ? next : current, fields);
    if (!sameKey(next, current)) {
      checkSize(next);
      w.put(existing, next, true);
    }
    return committed(w, { lastErrorObject: { n: 1, updatedExisting: true }, value, ok: 1 });
  }
  if (!upsert) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
  const doc = applyUpdate(upsertSeed(filter), u, filter, arrayFilters, true);
  checkSize(doc);
  const value = returnNew ? project(doc, fields) : null;
  const { coll } = w.collection(ctx.db, name);
  w.put(coll, doc, false);
  return committed(w, {
    lastErrorObject: { n: 1, updatedExisting: false, upserted: doc['_id'] },
    value,
    ok: 1,
  });
};

const find: Handler = (body, ctx) => {
  const name = collectionName(body, 'find');
  const limitRaw = optNumber(body, 'limit');
  const singleBatch = (optBool(body, 'singleBatch') ?? false) || (limitRaw !== undefined && limitRaw < 0);
  const limit = limitRaw === undefined ? undefined : Math.abs(limitRaw);
  const skip = optNumber(body, 'skip');
  if (skip !== undefined && skip < 0)
    throw new CommandError('BadValue', "BSON field 'skip' value must be >= 0, actual value '" + skip + "'");
  const docs = select(ctx.store.get(ctx.db, name), {
    filter: optDoc(body, 'filter') ?? {},
    sort: optDoc(body, 'sort'),
    skip,
    limit: limit || undefined,
    projection: optDoc(body, 'projection'),
    collation: optDoc(body, 'collation'),
  });
  let batchSize = optNumber(body, 'batchSize');
  if (batchSize !== undefined && batchSize < 0)
    throw new CommandError(
      'BadValue',
      "BSON field 'batchSize' value must be >= 0, actual value '" + batchSize + "'",
    );
  if (limit && (batchSize === undefined || batchSize > limit)) batchSize = limit;
  const ns = `${ctx.db}.${name}`;
  return cursorReply(ns, ctx.cursors.first(ns, docs, batchSize, singleBatch), true);
};

const getMore: Handler = (body, ctx) => {
  const id = optNumber(body, 'getMore');
  if (id === undefined)
    throw new CommandError('TypeMismatch', "BSON field 'getMore' is missing but a required field");
  const name = optString(body, 'collection') ?? '';
  const ns = `${ctx.db}.${name}`;
  return cursorReply(ns, ctx.cursors.more(id, ns, optNumber(body, 'batchSize')), false);
};

const killCursors: Handler = (body, ctx) => {
  const ids = (optArray(body, 'cursors') ?? []).map((v) => (typeof v === 'number' ? v : Number(v)));
  const { killed, notFound } = ctx.cursors.kill(ids);
  return {
    cursorsKilled: killed.map(cursorId),
    cursorsNotFound: notFound.map(cursorId),
    cursorsAlive: [],
    cursorsUnknown: [],
    ok: 1,
  };
};

const count: Handler = (body, ctx) => {
  const name = collectionName(body, 'count');
  const docs = select(ctx.store.get(ctx.db, name), {
    filter: optDoc(body, 'query') ?? {},
    skip: optNumber(body, 'skip'),
    limit: Math.abs(optNumber(body, 'limit') ?? 0) || undefined,
    collation: optDoc(body, 'collation'),
  });
  return { n: docs.length, ok: 1 };
};

const distinct: Handler = (body, ctx) => {
  const name = collectionName(body, 'distinct');
  const key = optString(body, 'key');
  if (key === undefined)
    throw new CommandError('FailedToParse', "BSON field 'distinct.key' is missing but a required field");
  const docs = select(ctx.store.get(ctx.db, name), {
    filter: optDoc(body, 'query') ?? {},
    collation: optDoc(body, 'collation'),
  });
  const seen = new Map<string, unknown>();
  for (const doc of docs) {
    for (const v of valuesAt(doc, key)) {
      if (v === undefined) continue;
      const k = keyOf(v);
      if (!seen.has(k)) seen.set(k, v);
    }
  }
  return { values: [...seen.values()], ok: 1 };
};

const aggregate: Handler = (body, ctx) => {
  const target = body['aggregate'];
  const name = typeof target === 'string' ? collectionName(body, 'aggregate') : undefined;
  const pipeline = optDocs(body, 'pipeline');
  if (!pipeline)
    throw new CommandError(
      'FailedToParse',
      "BSON field 'aggregate.pipeline' is missing but a required field",
    );
  if (body['explain'] !== undefined)
    throw new CommandError('CommandNotSupported', 'explain is not supported by the embedded server');
  if (optDoc(body, 'cursor') === undefined) {
    throw new CommandError(
      'FailedToParse',
      "The 'cursor' option is required, except for aggregate with the explain argument",
    );
  }
  for (const stage of pipeline) {
    const op = Object.keys(stage)[0] ?? '';
    if (
      op === '$out' ||
      op === '$merge' ||
      op === '$changeStream' ||
      op === '$currentOp' ||
      op === '$listSessions' ||
      op === '$collStats' ||
      op === '$indexStats'
    ) {
      throw new CommandError('CommandNotSupported', `${op} is not supported by the embedded server`);
    }
    const match = stage['$match'];
    if (op === '$match' && isDoc(match)) checkFilter(match);
  }
  const source = name ? [...(ctx.store.get(ctx.db, name)?.docs.values() ?? [])] : [];
  let docs: Doc[];
  try {
    docs = new Aggregator(pipeline, {
      ...QUERY_OPTIONS,
      ...collationOption(optDoc(body, 'collation')),
      collectionResolver: (other: string) =>
        [...(ctx.store.get(ctx.db, other)?.docs.values() ?? [])].map(clone),
    })
      .run(source.map(clone))
      .filter(isDoc);
  } catch (err) {
    throw asCommandError(err);
  }
  const ns = `${ctx.db}.${name ?? '$cmd.aggregate'}`;
  return cursorReply(ns, ctx.cursors.first(ns, docs, batchSizeOf(body)), true);
};

const UNSUPPORTED_CREATE = [
  'capped',
  'viewOn',
  'pipeline',
  'timeseries',
  'validator',
  'clusteredIndex',
  'collation',
  'changeStreamPreAndPostImages',
  'expireAfterSeconds',
];

const create: Handler = (body, ctx) => {
  const name = collectionName(body, 'create');
  for (const opt of UNSUPPORTED_CREATE) {
    if (body[opt] !== undefined && body[opt] !== false) {
      throw new CommandError(
        'CommandNotSupported',
        `create option '${opt}' is not supported by the embedded server`,
      );
    }
  }
  if (ctx.store.get(ctx.db, name))
    throw new CommandError('NamespaceExists', `Collection ${ctx.db}.${name} already exists.`);
  const w = ctx.store.begin();
  w.create(ctx.db, name, {});
  return committed(w, { ok: 1 });
};

const drop: Handler = (body, ctx) => {
  const name = collectionName(body, 'drop');
  const coll = ctx.store.get(ctx.db, name);
  if (!coll) return { ok: 1 };
  const w = ctx.store.begin();
  const nIndexesWas = coll.indexes.length;
  w.dropCollection(ctx.db, name);
  return committed(w, { nIndexesWas, ns: coll.ns, ok: 1 });
};

const dropDatabase: Handler = (_body, ctx) => {
  const w = ctx.store.begin();
  if (ctx.store.dbs.has(ctx.db)) w.dropDatabase(ctx.db);
  return committed(w, { dropped: ctx.db, ok: 1 });
};

const INDEX_OPTIONS = [
  'unique',
  'sparse',
  'partialFilterExpression',
  'expireAfterSeconds',
  'collation',
  'hidden',
] as const;

function sameOptions(a: Doc, b: Doc): boolean {
  return INDEX_OPTIONS.every(
    (o) => keyOf(a[o] === false ? undefined : a[o]) === keyOf(b[o] === false ? undefined : b[o]),
  );
}

const createIndexes: Handler = (body, ctx) => {
  const name = collectionName(body, 'createIndexes');
  const specs = optDocs(body, 'indexes');
  if (!specs || specs.length === 0)
    throw new CommandError('BadValue', 'Must specify at least one index to create');
  const w = ctx.store.begin();
  const { coll, created } = w.collection(ctx.db, name);
  const before = coll.indexes.length;
  for (const raw of specs) {
    const key = optDoc(raw, 'key');
    const indexName = optString(raw, 'name');
    if (!key || Object.keys(key).length === 0)
      throw new CommandError(
        'BadValue',
        "Error in specification: the 'key' field is required and must not be empty",
      );
    if (!indexName)
      throw new CommandError('BadValue', "Error in specification: the 'name' field is required");
    for (const [field, dir] of Object.entries(key)) {
      if (
        dir === 'text' ||
        dir === '2d' ||
        dir === '2dsphere' ||
        dir === 'geoHaystack' ||
        dir === 'columnstore'
      ) {
        throw new CommandError(
          'CommandNotSupported',
          `${String(dir)} indexes are not supported by the embedded server (field '${field}')`,
        );
      }
      if (typeof dir !== 'number' && dir !== 'hashed')
        throw new CommandError('BadValue', `Values in the index key pattern can't be of type ${typeof dir}`);
    }
    const spec: Doc = { v: 2, key, name: indexName };
    for (const opt of INDEX_OPTIONS) if (raw[opt] !== undefined && raw[opt] !== false) spec[opt] = raw[opt];
    const ttl = spec['expireAfterSeconds'];
    if (ttl !== undefined && (typeof ttl !== 'number' || ttl < 0))
      throw new CommandError(
        'InvalidOptions',
        "TTL index 'expireAfterSeconds' option must be a non-negative number",
      );
    const sameName = coll.indexes.find((i) => i.name === indexName);
    const sameKey = coll.indexes.find((i) => keyOf(i.key) === keyOf(key));
    if (sameName) {
      if (keyOf(sameName.key) !== keyOf(key)) {
        throw new CommandError(
          'IndexKeySpecsConflict',
          `An existing index has the same name as the requested index. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName.spec)}`,
        );
      }
      if (!sameOptions(sameName.spec, spec) && indexName !== '_id_') {
        throw new CommandError(
          'IndexOptionsConflict',
          `An equivalent index already exists with the same name but different options. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName.spec)}`,
        );
      }
      continue;
    }
    if (sameKey && keyOf(sameKey.spec['collation']) === keyOf(spec['collation'])) {
      throw new CommandError(
        'IndexOptionsConflict',
        `Index already exists with a different name: ${sameKey.name}`,
      );
    }
    w.addIndex(coll, spec);
  }
  const after = coll.indexes.length;
  return committed(w, {
    numIndexesBefore: before,
    numIndexesAfter: after,
    ...(after === before ? { note: 'all indexes already exist' } : {}),
    createdCollectionAutomatically: created,
    ok: 1,
  });
};

const listIndexes: Handler = (body, ctx) => {
  const name = collectionName(body, 'listIndexes');
  const coll = ctx.store.get(ctx.db, name);
  if (!coll) throw new CommandError('NamespaceNotFound', `ns does not exist: ${ctx.db}.${name}`);
  const ns = coll.ns;
  return cursorReply(
    ns,
    ctx.cursors.first(
      ns,
      coll.indexes.map((i) => i.spec),
      batchSizeOf(body),
    ),
    true,
  );
};

const dropIndexes: Handler = (body, ctx, cmd) => {
  const name = collectionName(body, cmd);
  const coll = ctx.store.get(ctx.db, name);
  if (!coll) throw new CommandError('NamespaceNotFound', `ns not found ${ctx.db}.${name}`);
  const index = body['index'];
  const nIndexesWas = coll.indexes.length;
  let names: string[];
  if (index === '*') names = coll.indexes.slice(1).map((i) => i.name);
  else if (typeof index === 'string') names = [index];
  else if (Array.isArray(index)) names = index.map(String);
  else if (isDoc(index)) {
    const found = coll.indexes.find((i) => keyOf(i.key) === keyOf(index));
    if (!found)
      throw new CommandError('IndexNotFound', `can't find index with key: ${JSON.stringify(index)}`);
    names = [found.name];
  } else throw new CommandError('TypeMismatch', "BSON field 'dropIndexes.index' is the wrong type");
  for (const n of names) {
    if (n === '_id_') throw new CommandError('InvalidOptions', 'cannot drop _id index');
    if (!coll.indexes.some((i) => i.name === n))
      throw new CommandError('IndexNotFound', `index not found with name [${n}]`);
  }
  const w = ctx.store.begin();
  for (const n of names) w.dropIndex(coll, n);
  return committed(w, { nIndexesWas, ok: 1 });
};

const listCollections: Handler = (body, ctx) => {
  const filter = optDoc(body, 'filter') ?? {};
  const nameOnly = optBool(body, 'nameOnly') ?? false;
  const colls = [...(ctx.store.dbs.get(ctx.db)?.values() ?? [])];
  const infos: Doc[] = colls.map((c) =>
    nameOnly
      ? { name: c.name, type: 'collection' }
      : {
          name: c.name,
          type: 'collection',
          options: c.options,
          info: { readOnly: false, uuid: new UUID(c.uuid.toHexString().padEnd(32, '0')) },
          idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
        },
  );
  const q = filterMatcher(filter);
  const ns = `${ctx.db}.$cmd.listCollections`;
  return cursorReply(
    ns,
    ctx.cursors.first(
      ns,
      infos.filter((d) => q.test(d)),
      batchSizeOf(body),
    ),
    true,
  );
};

const listDatabases: Handler = (body, ctx) => {
  const nameOnly = optBool(body, 'nameOnly') ?? false;
  const filter = filterMatcher(optDoc(body, 'filter') ?? {});
  let total = 0;
  const databases: Doc[] = [];
  for (const [name, colls] of ctx.store.dbs) {
    let size = 0;
    for (const c of colls.values()) for (const n of c.docs.bsonSizes()) size += n;
    const info: Doc = nameOnly ? { name } : { name, sizeOnDisk: size, empty: size === 0 };
    if (!filter.test(info)) continue;
    total += size;
    databases.push(info);
  }
  return nameOnly
    ? { databases, ok: 1 }
    : { databases, totalSize: total, totalSizeMb: Math.floor(total / 1048576), ok: 1 };
};

const hello: Handler = (_body, ctx, name) => ({
  helloOk: true,
  ...(name === 'hello' ? { isWritablePrimary: true } : { ismaster: true }),
  maxBsonObjectSize: MAX_BSON,
  maxMessageSizeBytes: 48_000_000,
  maxWriteBatchSize: 100_000,
  localTime: new Date(),
  // Sessions are advertised so drivers attach implicit `lsid`s (accepted and ignored); they keep
  // working, and transactions are refused with IllegalOperation as on a standalone mongod.
  logicalSessionTimeoutMinutes: 30,
  connectionId: ctx.connectionId,
  minWireVersion: 0,
  maxWireVersion: MAX_WIRE_VERSION,
  readOnly: false,
  ok: 1,
});

const buildInfo: Handler = () => ({
  version: SERVER_VERSION,
  gitVersion: 'embedded',
  versionArray: [7, 0, 0, 0],
  modules: [],
  allocator: 'system',
  javascriptEngine: 'none',
  sysInfo: 'deprecated',
  bits: 64,
  debug: false,
  maxBsonObjectSize: MAX_BSON,
  storageEngines: ['embedded'],
  ok: 1,
});

const ok: Handler = () => ({ ok: 1 });

const transactionCommand: Handler = () => {
  throw new CommandError(
    'IllegalOperation',
    'Transaction numbers are only allowed on a replica set member or mongos',
  );
};

const dbStats: Handler = (_body, ctx) => {
  const colls = [...(ctx.store.dbs.get(ctx.db)?.values() ?? [])];
  let objects = 0;
  let dataSize = 0;
  let indexes = 0;
  for (const c of colls) {
    objects += c.docs.size;
    indexes += c.indexes.length;
    for (const n of c.docs.bsonSizes()) dataSize += n;
  }
  return {
    db: ctx.db,
    collections: colls.length,
    views: 0,
    objects,
    avgObjSize: objects ? dataSize / objects : 0,
    dataSize,
    storageSize: dataSize,
    indexes,
    indexSize: 0,
    totalSize: dataSize,
    scaleFactor: 1,
    ok: 1,
  };
};

const COMMANDS: Record<string, Handler> = {
  hello,
  isMaster: hello,
  ismaster: hello,
  ping: ok,
  buildInfo,
  buildinfo: buildInfo,
  endSessions: ok,
  killSessions: ok,
  killAllSessions: ok,
  refreshSessions: ok,
  commitTransaction: transactionCommand,
  abortTransaction: transactionCommand,
  insert,
  update,
  delete: del,
  find,
  getMore,
  killCursors,
  findAndModify,
  findandmodify: findAndModify,
  count,
  distinct,
  aggregate,
  create,
  drop,
  dropDatabase,
  createIndexes,
  listIndexes,
  dropIndexes,
  deleteIndexes: dropIndexes,
  listCollections,
  listDatabases,
  dbStats,
  getParameter: () => ({ featureCompatibilityVersion: { version: '7.0' }, ok: 1 }),
  whatsmyuri: (_b, ctx) => ({ you: ctx.remote, ok: 1 }),
  getLog: () => ({ totalLinesWritten: 0, log: [], ok: 1 }),
  getCmdLineOpts: () => ({ argv: ['embedded'], parsed: {}, ok: 1 }),
  hostInfo: () => ({ system: { hostname: hostname() }, os: { type: process.platform }, extra: {}, ok: 1 }),
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
  serverStatus: () => ({
    host: hostname(),
    version: SERVER_VERSION,
    process: 'embedded',
    pid: process.pid,
    uptime: process.uptime(),
    localTime: new Date(),
    ok: 1,
  }),
};

/** Runs one command and returns its reply body; never throws (errors become `ok: 0`). */
export async function runCommand(body: Doc, ctx: CommandContext): Promise<Doc> {
  const name = Object.keys(body)[0] ?? '';
  const handler = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  try {
    if (!handler) throw new CommandError('CommandNotFound', `no such command: '${name}'`);
    rejectTransactions(body);
    return await handler(body, ctx, name);
  } catch (err) {
    return asCommandError(err).toReply();
  }
}
