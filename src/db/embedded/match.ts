import { ObjectId } from 'bson';
import { CommandError } from './errors.js';
import { isDoc, type Doc } from './values.js';

/*
 * Compiled filters and projections for the shapes the app sends on every request (equality on a
 * field or two, `$in` of scalars, ranges on dates and numbers, `$exists`, `$or` of such clauses,
 * plain inclusion/exclusion projections), so that the hot commands do not build a mingo query —
 * which copies mingo's whole operator table — per command.
 *
 * The answers are mingo's own (the server's behaviour is unchanged, which
 * `test/db/fast-paths.test.ts` checks against mingo over generated documents and filters). A
 * filter this module does not know is handed to mingo whole, at compile time; a document whose
 * values it does not know (an array on the path, an unusual BSON class, NaN) is handed to mingo
 * alone, per document, by answering `undefined`.
 */

/** True/false when the compiled filter knows the answer, undefined when mingo must decide. */
export type Predicate = (doc: Doc) => boolean | undefined;

/** What every filter test in the server looks like (a mingo `Query` has this shape too). */
export interface Matcher {
  test(doc: Doc): boolean;
}

/** A value read through a path that mingo must resolve itself (an array or a BSON class on the way). */
const ASK: unique symbol = Symbol('ask mingo');
type Read = (doc: Doc) => unknown;

/**
 * Names a path segment may not have: inherited `Object.prototype` members (mingo reads those
 * differently from own fields, and refuses `__proto__`), so that a plain `node[name]` is an own read.
 */
const RESERVED = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

/** The segments of a field path both sides read identically, or undefined. */
export function plainPath(path: string): string[] | undefined {
  if (path.length === 0 || path.includes('$')) return undefined;
  const parts = path.split('.');
  for (const p of parts) if (p.length === 0 || RESERVED.has(p)) return undefined;
  return parts;
}

function reader(parts: string[]): Read {
  const [first, ...rest] = parts;
  if (first === undefined) return () => ASK;
  if (rest.length === 0) return (doc) => doc[first];
  const last = parts.length - 1;
  const leaf = parts[last] ?? '';
  return (doc) => {
    let node: Doc = doc;
    for (let i = 0; i < last; i++) {
      const next = node[parts[i] ?? ''];
      if (isDoc(next)) {
        node = next;
        continue;
      }
      // A scalar (or nothing) in the middle of the path: the field is missing, as in mingo.
      if (next === undefined || next === null || (typeof next !== 'object' && typeof next !== 'function'))
        return undefined;
      // Arrays (MongoDB's implicit traversal) and BSON classes on the way: mingo's rules.
      return ASK;
    }
    return node[leaf];
  };
}

/** A scalar operand: equality on one (non-array) value, and its comparison class. */
interface Operand {
  /** Equality with a single value (an array element or a non-array field), as mingo's `isEqual`. */
  eq: (v: unknown) => boolean;
  isNull: boolean;
}

function operand(v: unknown): Operand | undefined {
  if (v === null) return { eq: (x) => x === null, isNull: true };
  if (typeof v === 'string' || typeof v === 'boolean') return { eq: (x) => x === v, isNull: false };
  if (typeof v === 'number') return Number.isNaN(v) ? undefined : { eq: (x) => x === v, isNull: false };
  if (v instanceof Date) {
    const t = v.getTime();
    if (!Number.isFinite(t)) return undefined;
    return { eq: (x) => x instanceof Date && x.getTime() === t, isNull: false };
  }
  if (v instanceof ObjectId) {
    const hex = v.toHexString();
    return { eq: (x) => x instanceof ObjectId && x.toHexString() === hex, isNull: false };
  }
  return undefined;
}

/** Plain objects, arrays, and values of no object type: those mingo's type checks never confuse with a BSON class. */
function isKnownShape(x: unknown): boolean {
  if (x === null || (typeof x !== 'object' && typeof x !== 'function')) return true;
  return Array.isArray(x) || isDoc(x) || x instanceof Date || x instanceof ObjectId;
}

function eqPredicate(read: Read, op: Operand, dotted: boolean): Predicate {
  return (doc) => {
    const v = read(doc);
    if (v === ASK) return undefined;
    if (v === undefined || v === null) return op.isNull;
    if (!Array.isArray(v)) return op.eq(v);
    let nested = false;
    for (const el of v) {
      if (op.eq(el)) return true;
      if (Array.isArray(el)) nested = true;
    }
    // mingo flattens nested arrays as deep as the path has dots; MongoDB never does. Ask mingo.
    return nested && dotted ? undefined : false;
  };
}

function inPredicate(read: Read, list: unknown[]): Predicate | undefined {
  let hasNull = false;
  const prims = new Set<unknown>();
  const times = new Set<number>();
  const hexes = new Set<string>();
  for (const v of list) {
    if (operand(v) === undefined) return undefined;
    if (v === null) hasNull = true;
    else if (v instanceof Date) times.add(v.getTime());
    else if (v instanceof ObjectId) hexes.add(v.toHexString());
    else prims.add(v);
  }
  const one = (el: unknown): boolean | undefined => {
    if (el === null) return hasNull;
    if (typeof el !== 'object') return prims.has(el);
    if (el instanceof Date) return times.has(el.getTime());
    if (el instanceof ObjectId) return hexes.has(el.toHexString());
    return isKnownShape(el) ? false : undefined;
  };
  return (doc) => {
    const v = read(doc);
    if (v === ASK) return undefined;
    if (v === undefined || v === null) return hasNull;
    return Array.isArray(v) ? some(v, one) : one(v);
  };
}

/**
 * Three-valued "any": true when one item says true, false when all say false, and undefined
 * ("ask mingo") when none says true and one could not tell.
 */
function some<T>(items: readonly T[], test: (item: T) => boolean | undefined): boolean | undefined {
  let unknown = false;
  for (const item of items) {
    const r = test(item);
    if (r === true) return true;
    if (r === undefined) unknown = true;
  }
  return unknown ? undefined : false;
}

type Order = (a: unknown) => number | undefined;

/**
 * Comparison against a scalar: mingo compares only values of the operand's own type (numbers
 * with numbers, dates with dates…); NaN and invalid dates, where its comparison is not MongoDB's,
 * are left to it.
 */
function order(b: unknown): Order | undefined {
  if (typeof b === 'number') {
    if (Number.isNaN(b)) return undefined;
    return (a) => (typeof a !== 'number' ? NaN : Number.isNaN(a) ? undefined : a < b ? -1 : a > b ? 1 : 0);
  }
  if (typeof b === 'string') return (a) => (typeof a !== 'string' ? NaN : a < b ? -1 : a > b ? 1 : 0);
  if (typeof b === 'boolean') {
    const y = Number(b);
    return (a) => (typeof a !== 'boolean' ? NaN : Number(a) - y);
  }
  if (b instanceof Date) {
    const t = b.getTime();
    if (!Number.isFinite(t)) return undefined;
    return (a) => {
      if (!(a instanceof Date)) return NaN;
      const x = a.getTime();
      return Number.isNaN(x) ? undefined : x < t ? -1 : x > t ? 1 : 0;
    };
  }
  if (b instanceof ObjectId) {
    const hex = b.toHexString();
    return (a) => {
      if (!(a instanceof ObjectId)) return NaN;
      const x = a.toHexString();
      return x < hex ? -1 : x > hex ? 1 : 0;
    };
  }
  return undefined;
}

function cmpPredicate(read: Read, cmp: Order, ok: (c: number) => boolean): Predicate {
  const one = (el: unknown): boolean | undefined => {
    const c = cmp(el);
    if (c === undefined) return undefined;
    if (Number.isNaN(c)) return isKnownShape(el) ? false : undefined;
    return ok(c);
  };
  return (doc) => {
    const v = read(doc);
    if (v === ASK) return undefined;
    return Array.isArray(v) ? some(v, one) : one(v);
  };
}

const COMPARISONS: Record<string, (c: number) => boolean> = {
  $lt: (c) => c < 0,
  $lte: (c) => c <= 0,
  $gt: (c) => c > 0,
  $gte: (c) => c >= 0,
};

function not(p: Predicate): Predicate {
  return (doc) => {
    const r = p(doc);
    return r === undefined ? undefined : !r;
  };
}

function and(ps: Predicate[]): Predicate {
  if (ps.length === 1 && ps[0]) return ps[0];
  return (doc) => {
    let unknown = false;
    for (const p of ps) {
      const r = p(doc);
      if (r === false) return false;
      if (r === undefined) unknown = true;
    }
    return unknown ? undefined : true;
  };
}

function or(ps: Predicate[]): Predicate {
  return (doc) => some(ps, (p) => p(doc));
}

function fieldPredicate(path: string, cond: unknown): Predicate | undefined {
  const parts = plainPath(path);
  if (!parts) return undefined;
  const read = reader(parts);
  const dotted = parts.length > 1;
  if (!isDoc(cond)) {
    const op = operand(cond);
    return op && eqPredicate(read, op, dotted);
  }
  const ops = Object.keys(cond);
  // `{}` or `{ a: 1 }` is equality with a sub-document; mingo's.
  if (ops.length === 0) return undefined;
  const out: Predicate[] = [];
  for (const name of ops) {
    const arg = cond[name];
    let p: Predicate | undefined;
    switch (name) {
      case '$eq':
      case '$ne': {
        const op = operand(arg);
        p = op && eqPredicate(read, op, dotted);
        if (p && name === '$ne') p = not(p);
        break;
      }
      case '$in':
      case '$nin':
        p = Array.isArray(arg) ? inPredicate(read, arg) : undefined;
        if (p && name === '$nin') p = not(p);
        break;
      case '$lt':
      case '$lte':
      case '$gt':
      case '$gte': {
        const cmp = order(arg);
        const ok = COMPARISONS[name];
        p = cmp && ok && cmpPredicate(read, cmp, ok);
        break;
      }
      case '$exists':
        if (typeof arg === 'boolean' || typeof arg === 'number') {
          const want = Boolean(arg);
          p = (doc) => {
            const v = read(doc);
            return v === ASK ? undefined : (v !== undefined) === want;
          };
        }
        break;
      default:
        p = undefined;
    }
    if (!p) return undefined;
    out.push(p);
  }
  return and(out);
}

/**
 * Compiles a filter into a predicate, or returns undefined when the filter uses anything beyond
 * field equality, `$eq $ne $in $nin $lt $lte $gt $gte $exists` on scalars and `$and $or $nor`.
 */
export function compileFilter(filter: Doc): Predicate | undefined {
  const out: Predicate[] = [];
  for (const key of Object.keys(filter)) {
    const value = filter[key];
    if (key === '$and' || key === '$or' || key === '$nor') {
      // Empty lists never get here: checkFilter refuses them, as MongoDB does.
      if (!Array.isArray(value) || value.length === 0) return undefined;
      const subs: Predicate[] = [];
      for (const sub of value) {
        const p = isDoc(sub) ? compileFilter(sub) : undefined;
        if (!p) return undefined;
        subs.push(p);
      }
      out.push(key === '$and' ? and(subs) : key === '$or' ? or(subs) : not(or(subs)));
      continue;
    }
    const p = fieldPredicate(key, value);
    if (!p) return undefined;
    out.push(p);
  }
  if (out.length === 0) return () => true;
  return and(out);
}

/** Operators whose operand MongoDB refuses unless it is an array. */
const ARRAY_OPERANDS = new Set(['$in', '$nin', '$all']);

/**
 * Refuses the filter shapes MongoDB refuses when it parses a query, before it reads a document or
 * the projection: `$in`, `$nin` and `$all` without an array, and `$and`/`$or`/`$nor` without a
 * non-empty array of documents. mingo would accept some of them and stumble on others only when a
 * document reaches the operator, so the same command would fail or not depending on the data.
 */
export function checkFilter(filter: Doc): void {
  for (const key of Object.keys(filter)) {
    const value = filter[key];
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (!Array.isArray(value) || value.length === 0) {
        throw new CommandError('BadValue', '$and/$or/$nor must be a nonempty array');
      }
      for (const sub of value) {
        if (!isDoc(sub)) throw new CommandError('BadValue', '$or/$and/$nor entries need to be full objects');
        checkFilter(sub);
      }
    } else if (isDoc(value)) {
      checkOperators(value);
    }
  }
}

/** The operators of one field's condition (`{ $in: [...], $not: {...} }`), if it is one. */
function checkOperators(cond: Doc): void {
  for (const name of Object.keys(cond)) {
    const arg = cond[name];
    if (ARRAY_OPERANDS.has(name) && !Array.isArray(arg)) {
      throw new CommandError('BadValue', `${name} needs an array`);
    }
    if (name === '$not' && isDoc(arg)) checkOperators(arg);
  }
}

/**
 * A matcher for `filter`: the compiled predicate, asking `slow()` (a mingo query, built once and
 * only when first needed) for the documents it cannot decide. A filter it cannot compile is
 * `slow()` from the start, so that mingo's errors for it are thrown here, as before.
 */
export function matcher(filter: Doc, slow: () => Matcher): Matcher {
  const fast = compileFilter(filter);
  if (!fast) return slow();
  let mingo: Matcher | undefined;
  return {
    test(doc: Doc): boolean {
      const r = fast(doc);
      if (r !== undefined) return r;
      mingo ??= slow();
      return mingo.test(doc);
    },
  };
}

/**
 * A projection of top-level fields only (`{ a: 1, b: 1 }`, `{ a: 0 }`, each with or without
 * `_id: 0`), producing what mingo's `$project` produces (included fields in sorted order, then
 * an `_id` not named); undefined for anything else (dotted paths, operators, expressions).
 */
export function compileProjection(spec: Doc): ((doc: Doc) => Doc) | undefined {
  const fields: string[] = [];
  let include: boolean | undefined;
  let withId = true;
  const keys = Object.keys(spec);
  for (const key of keys) {
    const v = spec[key];
    let on: boolean;
    if (v === 1 || v === true) on = true;
    else if (v === 0 || v === false) on = false;
    else return undefined;
    if (key.includes('.') || key.startsWith('$') || key.length === 0 || RESERVED.has(key)) return undefined;
    if (key === '_id') {
      withId = on;
      continue;
    }
    if (include !== undefined && include !== on) return undefined;
    include = on;
    fields.push(key);
  }
  // `{ _id: 1, a: 0 }` mixes inclusion and exclusion: mingo's error.
  if (include === false && withId && '_id' in spec) return undefined;
  if (include === true || (include === undefined && withId && fields.length === 0 && '_id' in spec)) {
    // mingo's order: the named fields sorted, then an `_id` the projection does not name.
    const named = keys.filter((k) => k !== '_id' || withId).sort();
    const order = withId && !keys.includes('_id') ? [...named, '_id'] : named;
    return (doc) => {
      const out: Doc = {};
      for (const f of order) {
        const v = doc[f];
        if (v !== undefined) out[f] = v;
      }
      return out;
    };
  }
  const drop = new Set(fields);
  if (!withId) drop.add('_id');
  if (drop.size === 0) return (doc) => doc;
  return (doc) => {
    const out: Doc = {};
    for (const k of Object.keys(doc)) if (!drop.has(k)) out[k] = doc[k];
    return out;
  };
}
