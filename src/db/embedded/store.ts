import { calculateObjectSize, ObjectId } from 'bson';
import { Query } from 'mingo';
import { Documents, unpack, type Held } from './documents.js';
import { CommandError } from './errors.js';
import type { Journal } from './journal.js';
import { flat, isDoc, keyOf, renderKeyValue, valuesAt, type Doc } from './values.js';

/** An index as listIndexes shows it, plus what the server needs to enforce it. */
export interface Index {
  spec: Doc;
  name: string;
  key: Doc;
  unique: boolean;
  sparse: boolean;
  partial: Query | undefined;
  expireAfterSeconds: number | undefined;
  /** For unique indexes: index key → `_id` key of the owning document. */
  entries: Map<string, string> | undefined;
  /**
   * Value of the index's first field ({@link lookupKeysAt}), and for compound indexes also the
   * pair of its first two fields' values → `_id` keys of the documents holding it; undefined for
   * `_id_`, which the `_id` map already serves. Respects sparse and partial.
   */
  lookup: IdLookup | undefined;
  /**
   * Whether the lookup map also lists the pair of the first two fields. Off until a query pins both
   * (then built from the data, and kept from there on): most compound indexes pair a field with a
   * timestamp queried by range, and a pair key for every document of those would only cost memory.
   */
  pairs: boolean;
  /**
   * The top-level fields the index's keys are computed from, or undefined when a partial filter
   * (which may read any field) decides membership too.
   */
  fields: string[] | undefined;
}

/**
 * Lookup-map key → `_id` keys of the documents listed under it. Most keys list one document (every
 * unique or near-unique value: message ids, idempotency keys, a field paired with a timestamp), so
 * such a key holds that `_id` key itself and only a shared one gets a Set: a Set with its hash
 * table is about 250 bytes and two objects, which for ~100,000 stored messages made the indexes
 * larger than the documents and every full garbage collection of the server's thread slower.
 */
export class IdLookup {
  private readonly map = new Map<string, string | Set<string>>();

  add(key: string, id: string): void {
    const held = this.map.get(key);
    if (held === undefined) this.map.set(key, id);
    else if (typeof held !== 'string') held.add(id);
    else if (held !== id) this.map.set(key, new Set([held, id]));
  }

  delete(key: string, id: string): void {
    const held = this.map.get(key);
    if (held === id) this.map.delete(key);
    else if (held instanceof Set && held.delete(id) && held.size === 1) {
      const [last] = held;
      if (last !== undefined) this.map.set(key, last);
    }
  }

  /** The `_id` keys listed under `key` (none: an empty set). */
  get(key: string): ReadonlySet<string> {
    const held = this.map.get(key);
    return held === undefined ? NO_IDS : typeof held === 'string' ? new Set([held]) : held;
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  clear(): void {
    this.map.clear();
  }
}

const NO_IDS: ReadonlySet<string> = new Set();

const ID_INDEX_SPEC: Doc = { v: 2, key: { _id: 1 }, name: '_id_' };

/** Builds an {@link Index} from a createIndexes spec (already validated by the command). */
export function makeIndex(spec: Doc): Index {
  const key = isDoc(spec['key']) ? spec['key'] : {};
  const name = typeof spec['name'] === 'string' ? spec['name'] : '';
  const unique = spec['unique'] === true && name !== '_id_';
  const pfe = spec['partialFilterExpression'];
  const ttl = spec['expireAfterSeconds'];
  return {
    spec,
    name,
    key,
    unique,
    sparse: spec['sparse'] === true,
    partial: isDoc(pfe) ? new Query(pfe) : undefined,
    expireAfterSeconds: typeof ttl === 'number' ? ttl : undefined,
    entries: unique ? new Map() : undefined,
    lookup: name === '_id_' ? undefined : new IdLookup(),
    pairs: false,
    fields: isDoc(pfe) ? undefined : [...new Set(Object.keys(key).map((path) => path.split('.')[0] ?? path))],
  };
}

/**
 * True when `a` and `b` are listed under the same keys of `index`: each field the keys are read from
 * holds the very same value in both. A stored document is never changed in place and an update
 * shares every untouched sub-document with the version before it (update-fast.ts), so an update
 * that leaves an index's fields alone is recognised here without computing any key.
 */
function sameKeys(index: Index, a: Doc, b: Doc): boolean {
  return index.fields !== undefined && index.fields.every((f) => Object.is(a[f], b[f]));
}

/** The key a missing field (or `null`, or an empty array) has in a lookup map. */
const MISSING = keyOf(null);

/**
 * Every key under which a document is listed for `path` in a lookup map: a **superset** of the
 * values an equality on `path` can match. Arrays are listed as themselves and, recursively, by
 * each element (MongoDB's multikey rule is one level; listing more only adds candidates that the
 * query then rejects, never loses one). A missing field, or a missing step inside an array
 * element, lists the document under `null`.
 */
export function lookupKeysAt(doc: Doc, path: string): Set<string> {
  const out = new Set<string>();
  addKeysAt(out, path.split('.'), doc, 0);
  return out;
}

// Module-level functions, not closures made per call: this runs for every index of every write, and
// (from source, under tsx) each closure made is also named at run time.
function addKeysAt(out: Set<string>, parts: string[], node: unknown, i: number): void {
  if (i === parts.length) {
    addKeysDeep(out, node);
    return;
  }
  const part = parts[i] ?? '';
  if (Array.isArray(node)) {
    if (node.length === 0) out.add(MISSING);
    for (const el of node) addKeysAt(out, parts, el, i);
    if (/^\d+$/.test(part) && Number(part) < node.length) addKeysAt(out, parts, node[Number(part)], i + 1);
    return;
  }
  if (isDoc(node) && Object.prototype.hasOwnProperty.call(node, part))
    addKeysAt(out, parts, node[part], i + 1);
  else out.add(MISSING);
}

function addKeysDeep(out: Set<string>, v: unknown): void {
  out.add(keyOf(v));
  if (Array.isArray(v)) {
    if (v.length === 0) out.add(MISSING);
    for (const el of v) addKeysDeep(out, el);
  }
}

function singleKey(k: string): string {
  return flat('1:', k);
}

function pairKey(a: string, b: string): string {
  return flat('2:', JSON.stringify([a, b]));
}

/** How a date is keyed in a single-field lookup map: `1:d:<milliseconds>` ({@link keyOf}). */
const DATE_KEY_PREFIX = singleKey(keyOf(new Date(0))).replace(/\d+$/, '');

/**
 * Whether `doc` has expired under the TTL `index` on `field` at `limit` (now minus
 * expireAfterSeconds): the earliest date in the field, MongoDB's rule for arrays of dates, is past it.
 */
function expiredUnder(index: Index, field: string, doc: Doc, limit: number): boolean {
  if (index.partial && !index.partial.test(doc)) return false;
  let earliest = Infinity;
  for (const v of valuesAt(doc, field)) if (v instanceof Date) earliest = Math.min(earliest, v.getTime());
  return earliest <= limit;
}

/** The `_id` keys a single-field lookup map lists under a date at or before `limit` (ms). */
function datedUpTo(lookup: IdLookup, limit: number): string[] {
  const out: string[] = [];
  for (const key of lookup.keys()) {
    // A loop, not `push(...ids)`: one date can list more ids than a call takes arguments.
    if (key.startsWith(DATE_KEY_PREFIX) && Number(key.slice(DATE_KEY_PREFIX.length)) <= limit)
      for (const id of lookup.get(key)) out.push(id);
  }
  return out;
}

/** Candidate sets larger than this share of the collection are read by a filtered natural-order scan instead of a sort. */
const SORT_CANDIDATES_BELOW = 0.25;
/**
 * Documents a filter's lookups select, by `_id` key: `size` bounds their number, `has` tells one,
 * `ids` lists them (perhaps more than once).
 */
interface Selection {
  size: number;
  has(id: string): boolean;
  ids(): Iterable<string>;
}

/** `$in` lists longer than this are not looked up (the union would cost about as much as the scan). */
const MAX_IN_LOOKUPS = 64;

/** The lookup-map key of an equality operand an index can serve, or undefined when it cannot. */
function eqOperandKey(v: unknown, allowNull: boolean): string | undefined {
  if (v === null) return allowNull ? MISSING : undefined;
  if (typeof v === 'string' || typeof v === 'boolean') return keyOf(v);
  if (typeof v === 'number') return Number.isNaN(v) ? undefined : keyOf(v);
  if (v instanceof ObjectId) return keyOf(v);
  if (v instanceof Date) return Number.isFinite(v.getTime()) ? keyOf(v) : undefined;
  // Sub-documents, arrays, regexes and other BSON types keep the scan: their equality rules
  // (field order, array-as-value, patterns) are mingo's to decide.
  return undefined;
}

/** The keys a field condition pins the field to (equality, `$eq`, small `$in`), or undefined. */
function eqKeys(cond: unknown, allowNull: boolean): string[] | undefined {
  if (isDoc(cond)) {
    const ops = Object.keys(cond);
    if (!ops.length || ops.some((k) => !k.startsWith('$'))) return undefined;
    // A missing field is listed under `null`, with the documents holding null (which the filter
    // then rejects): the retention sweep asks for processed messages not dated yet this way.
    if (cond['$exists'] === false) return allowNull ? [MISSING] : undefined;
    // Operators on one field are ANDed, so `$eq`/`$in` alone bound the matches.
    if ('$eq' in cond) {
      const k = eqOperandKey(cond['$eq'], allowNull);
      return k === undefined ? undefined : [k];
    }
    const list = cond['$in'];
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_IN_LOOKUPS) return undefined;
    const keys = new Set<string>();
    for (const v of list) {
      const k = eqOperandKey(v, allowNull);
      if (k === undefined) return undefined;
      keys.add(k);
    }
    return [...keys];
  }
  const k = eqOperandKey(cond, allowNull);
  return k === undefined ? undefined : [k];
}

/** One collection: documents in insertion (natural) order keyed by their `_id`. */
export class Collection {
  readonly db: string;
  readonly name: string;
  readonly docs = new Documents();
  readonly indexes: Index[] = [makeIndex(ID_INDEX_SPEC)];
  readonly options: Doc;
  readonly uuid = new ObjectId();
  /** False makes every query scan (the consistency tests compare both ways). */
  indexLookups = true;
  /** `_id` key → insertion sequence, so index candidates can be returned in natural order. */
  private readonly seq = new Map<string, number>();
  private nextSeq = 0;

  constructor(db: string, name: string, options: Doc = {}) {
    this.db = db;
    this.name = name;
    this.options = options;
  }

  /** `db.collection`, as MongoDB names it in messages. */
  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  private indexKeys(index: Index, doc: Doc): { key: string; value: Doc }[] {
    if (index.partial && !index.partial.test(doc)) return [];
    const fields = Object.keys(index.key);
    const perField = fields.map((f) => valuesAt(doc, f));
    if (index.sparse && perField.every((vals) => vals.length === 0)) return [];
    let combos: unknown[][] = [[]];
    for (const vals of perField) {
      const options = vals.length ? vals : [null];
      combos = combos.flatMap((c) => options.map((v) => [...c, v]));
    }
    const seen = new Map<string, Doc>();
    for (const combo of combos) {
      const key = combo.map(keyOf).join('|');
      if (!seen.has(key)) {
        const value: Doc = {};
        fields.forEach((f, i) => {
          value[f] = combo[i] ?? null;
        });
        seen.set(key, value);
      }
    }
    return [...seen].map(([key, value]) => ({ key, value }));
  }

  /** The E11000 error MongoDB raises for `index` and the offending key. */
  duplicateError(index: Index, value: Doc): CommandError {
    return new CommandError(
      'DuplicateKey',
      `E11000 duplicate key error collection: ${this.ns} index: ${index.name} dup key: ${renderKeyValue(value)}`,
      { keyPattern: index.key, keyValue: value },
    );
  }

  /**
   * Throws the E11000 error if writing `doc` (replacing the document with the same `_id`, when
   * `replacing`) would break a unique index. Changes nothing.
   */
  checkUnique(doc: Doc, replacing: boolean): void {
    const id = keyOf(doc['_id']);
    const old = this.docs.get(id);
    if (!replacing && old) {
      const idIndex = this.indexes[0];
      if (idIndex) throw this.duplicateError(idIndex, { _id: doc['_id'] });
    }
    for (const index of this.indexes) {
      // The document it replaces holds these keys already.
      if (!index.entries || (old && sameKeys(index, old, doc))) continue;
      for (const { key, value } of this.indexKeys(index, doc)) {
        const owner = index.entries.get(key);
        if (owner !== undefined && owner !== id) throw this.duplicateError(index, value);
      }
    }
  }

  /** Stores `doc` (inserting or replacing by `_id`) and maintains unique indexes. Call checkUnique first. */
  put(doc: Doc): void {
    const id = keyOf(doc['_id']);
    const old = this.docs.get(id);
    if (!old) this.seq.set(id, this.nextSeq++);
    this.docs.set(id, doc);
    for (const index of this.indexes) {
      if (old) {
        if (sameKeys(index, old, doc)) continue;
        this.unindexFrom(index, old, id);
      }
      if (index.entries) for (const { key } of this.indexKeys(index, doc)) index.entries.set(key, id);
      if (index.lookup) this.addLookup(index, index.lookup, doc, id);
    }
  }

  private lookupKeys(index: Index, doc: Doc): Set<string> {
    if (index.partial && !index.partial.test(doc)) return new Set();
    const fields = Object.keys(index.key);
    if (index.sparse && fields.every((f) => valuesAt(doc, f).length === 0)) return new Set();
    const first = lookupKeysAt(doc, fields[0] ?? '_id');
    const out = new Set<string>();
    for (const k of first) out.add(singleKey(k));
    // The pair serves `{ channel, platformMessageId }`-style lookups whose first field alone is
    // hardly selective; a product of supersets is a superset of the pairs a document matches.
    if (fields[1] !== undefined && index.pairs) {
      const second = lookupKeysAt(doc, fields[1]);
      for (const a of first) for (const b of second) out.add(pairKey(a, b));
    }
    return out;
  }

  private addLookup(index: Index, lookup: IdLookup, doc: Doc, id: string): void {
    for (const key of this.lookupKeys(index, doc)) lookup.add(key, id);
  }

  /** Lists every document under its pair of the index's first two fields' keys, from now on. */
  private addPairs(index: Index, lookup: IdLookup): void {
    index.pairs = true;
    // Keys already listed are listed again without effect.
    for (const [id, doc] of this.docs) this.addLookup(index, lookup, doc, id);
  }

  /**
   * The documents a filter can match, read through the lookup maps when the filter pins some
   * index's first field (equality, `$eq`, or `$in` over at most 64 plain values) — in natural
   * order, so unsorted results are the scan's — or undefined when the collection must be scanned.
   * A top-level `$or` whose every branch can be read so is read as the union of the branches'
   * candidates (intersected with the pinned fields' when there are both). With a collation, string
   * equality is the collation's, so the maps are not used.
   */
  lookupCandidates(filter: Doc, collated: boolean): Doc[] | undefined {
    if (!this.indexLookups || collated) return undefined;
    const selection = this.selection(filter);
    return selection && this.inNaturalOrder(selection);
  }

  /**
   * What the filter's pinned top-level fields and its `$or` select, the two intersected when both
   * can be read from the lookups. The inbox asks for the unfinished messages of some conversations:
   * a conversation lists every message it ever had, the `$or` of unfinished states only a few.
   */
  private selection(filter: Doc): Selection | undefined {
    const pinned = this.pinnedSelection(filter);
    const or = this.orSelection(filter);
    if (!pinned || !or) return pinned ?? or;
    const [drive, other] = pinned.size <= or.size ? [pinned, or] : [or, pinned];
    return {
      size: drive.size,
      has: (id) => drive.has(id) && other.has(id),
      *ids() {
        for (const id of drive.ids()) if (other.has(id)) yield id;
      },
    };
  }

  /**
   * The documents of a selection, in natural order: a large one by a filtered walk of the
   * collection's keys, a small one by sorting its ids. Only the selected documents are read (and
   * so unpacked), not the ones walked past.
   */
  private inNaturalOrder(selection: Selection): Doc[] {
    const out: Doc[] = [];
    if (selection.size > this.docs.size * SORT_CANDIDATES_BELOW) {
      for (const id of this.docs.keys()) {
        if (!selection.has(id)) continue;
        const doc = this.docs.get(id);
        if (doc) out.push(doc);
      }
      return out;
    }
    const ids = [...new Set(selection.ids())].sort((a, b) => (this.seq.get(a) ?? 0) - (this.seq.get(b) ?? 0));
    for (const id of ids) {
      const doc = this.docs.get(id);
      if (doc) out.push(doc);
    }
    return out;
  }

  /**
   * The union of what each branch of the filter's `$or` can match; undefined if there is no `$or`
   * or a branch would need a scan. The inbox's look for unfinished messages (received, failed, or
   * leased by a crashed worker) is such a filter, asked every second.
   */
  private orSelection(filter: Doc): Selection | undefined {
    const branches = filter['$or'];
    if (!Array.isArray(branches) || branches.length === 0) return undefined;
    const selections: Selection[] = [];
    for (const branch of branches) {
      const selection = isDoc(branch) ? this.selection(branch) : undefined;
      if (!selection) return undefined;
      selections.push(selection);
    }
    return {
      size: selections.reduce((n, s) => n + s.size, 0),
      has: (id) => selections.some((s) => s.has(id)),
      *ids() {
        for (const s of selections) yield* s.ids();
      },
    };
  }

  /** What the filter's own top-level fields select through the lookup maps, or undefined. */
  private pinnedSelection(filter: Doc): Selection | undefined {
    const sets: (ReadonlySet<string> | ReadonlySet<string>[])[] = [];
    let best: { size: number; at: number } | undefined;
    const usedPaths = new Set<string>();
    const pinned = (index: Index, path: string | undefined): string[] | undefined =>
      path === undefined || path.startsWith('$') || !Object.prototype.hasOwnProperty.call(filter, path)
        ? undefined
        : eqKeys(filter[path], !index.sparse && !path.includes('.'));
    for (const index of this.indexes) {
      if (!index.lookup) continue;
      const [path, path2] = Object.keys(index.key);
      const first = pinned(index, path);
      if (!first || path === undefined) continue;
      if (index.partial && !this.impliesPartial(index, filter)) continue;
      const second = pinned(index, path2);
      let keys: string[];
      let usage: string;
      if (second && first.length * second.length <= MAX_IN_LOOKUPS) {
        if (!index.pairs) this.addPairs(index, index.lookup);
        keys = first.flatMap((a) => second.map((b) => pairKey(a, b)));
        usage = JSON.stringify([path, path2]);
      } else {
        keys = first.map(singleKey);
        usage = path;
      }
      if (usedPaths.has(usage)) continue;
      usedPaths.add(usage);
      const found = keys.map((k) => index.lookup?.get(k) ?? NO_IDS);
      const size = found.reduce((n, ids) => n + ids.size, 0);
      if (!best || size < best.size) best = { size, at: sets.length };
      sets.push(found.length === 1 && found[0] ? found[0] : found);
    }
    if (!best) return undefined;
    const inSet = (set: ReadonlySet<string> | ReadonlySet<string>[], id: string): boolean =>
      Array.isArray(set) ? set.some((s) => s.has(id)) : set.has(id);
    const drive = sets[best.at] ?? [];
    const others = sets.filter((_, i) => i !== best?.at);
    const keep = (id: string): boolean => others.every((s) => inSet(s, id));
    return {
      size: best.size,
      has: (id) => inSet(drive, id) && keep(id),
      *ids() {
        for (const s of Array.isArray(drive) ? drive : [drive]) for (const id of s) if (keep(id)) yield id;
      },
    };
  }

  /**
   * A partial index lists only documents matching its filter, so it may serve a query only when
   * the query repeats each top-level condition of that filter verbatim (a conservative implication).
   */
  private impliesPartial(index: Index, filter: Doc): boolean {
    const pfe = index.spec['partialFilterExpression'];
    if (!isDoc(pfe)) return false;
    return Object.entries(pfe).every(
      ([k, v]) =>
        !k.startsWith('$') &&
        Object.prototype.hasOwnProperty.call(filter, k) &&
        keyOf(filter[k]) === keyOf(v),
    );
  }

  /**
   * The documents a TTL index (on one field) has expired by `now`. Read through the index's lookup
   * map, so only documents listed under a date old enough are looked at: a sweep costs nothing for
   * the many that carry no expiry date yet (processed messages, until the retention sweep dates
   * them). With lookups off (the consistency tests), every document is checked.
   */
  expired(now: number): Doc[] {
    const out = new Map<string, Doc>();
    for (const index of this.indexes) {
      const [field, ...more] = Object.keys(index.key);
      if (index.expireAfterSeconds === undefined || field === undefined || more.length > 0) continue;
      const limit = now - index.expireAfterSeconds * 1000;
      const candidates =
        this.indexLookups && index.lookup ? datedUpTo(index.lookup, limit) : [...this.docs.keys()];
      for (const id of candidates) {
        const doc = this.docs.get(id);
        if (doc && !out.has(id) && expiredUnder(index, field, doc, limit)) out.set(id, doc);
      }
    }
    return [...out.values()];
  }

  /** Removes the document with `_id` key `id`. */
  remove(id: string): Doc | undefined {
    const old = this.docs.get(id);
    if (!old) return undefined;
    for (const index of this.indexes) this.unindexFrom(index, old, id);
    this.docs.delete(id);
    this.seq.delete(id);
    return old;
  }

  /** Takes `doc` (whose `_id` key is `id`) out of `index`. */
  private unindexFrom(index: Index, doc: Doc, id: string): void {
    if (index.entries) {
      for (const { key } of this.indexKeys(index, doc)) {
        if (index.entries.get(key) === id) index.entries.delete(key);
      }
    }
    if (index.lookup) {
      for (const key of this.lookupKeys(index, doc)) index.lookup.delete(key, id);
    }
  }

  /** Adds an index, building its entries; throws E11000 (changing nothing) if data violates it. */
  addIndex(index: Index): void {
    if (index.entries) {
      for (const doc of this.docs.values()) {
        const id = keyOf(doc['_id']);
        for (const { key, value } of this.indexKeys(index, doc)) {
          const owner = index.entries.get(key);
          if (owner !== undefined && owner !== id) {
            index.entries.clear();
            throw this.duplicateError(index, value);
          }
          index.entries.set(key, id);
        }
      }
    }
    if (index.lookup) {
      const lookup = index.lookup;
      lookup.clear();
      for (const [id, doc] of this.docs) this.addLookup(index, lookup, doc, id);
    }
    this.indexes.push(index);
  }

  /** Drops the named index. */
  dropIndex(name: string): void {
    const i = this.indexes.findIndex((x) => x.name === name);
    if (i > 0) this.indexes.splice(i, 1);
  }
}

/** One journal operation; replaying them in order rebuilds the state. */
export type Op =
  | { o: 'put'; db: string; c: string; doc: Doc }
  | { o: 'del'; db: string; c: string; id: unknown }
  | { o: 'mkc'; db: string; c: string; options: Doc }
  | { o: 'drc'; db: string; c: string }
  | { o: 'drd'; db: string }
  | { o: 'mki'; db: string; c: string; spec: Doc }
  | { o: 'dri'; db: string; c: string; name: string };

/** Largest batch of operations per journal record, kept well under BSON's 16 MiB document limit. */
const JOURNAL_RECORD_BYTES = 4 * 1024 * 1024;
/**
 * Documents per snapshot record: each is serialised in one go on the server's thread while it keeps
 * serving, so records stay small enough (a millisecond or two each) not to hold commands up.
 */
const SNAPSHOT_RECORD_BYTES = 256 * 1024;

/**
 * All databases. Every mutation is synchronous and recorded in a {@link WriteSet}; the command
 * replies only after `commit()` (the journal's fsync), so no `await` ever splits a
 * read-modify-write and the journal order is the order in which memory changed.
 */
export class Store {
  readonly dbs = new Map<string, Map<string, Collection>>();
  journal: Journal | undefined;
  private lookups = true;

  /** Whether queries may read through index lookup maps (default true); false scans, for comparison. */
  get indexLookups(): boolean {
    return this.lookups;
  }

  set indexLookups(on: boolean) {
    this.lookups = on;
    for (const colls of this.dbs.values()) for (const coll of colls.values()) coll.indexLookups = on;
  }

  /** The collection, or undefined. */
  get(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /**
   * Packs the documents left unwritten for `age` calls of this, at most `max` in all (see
   * {@link Documents.cool}); returns how many it packed.
   */
  cool(age: number, max = Infinity): number {
    let packed = 0;
    for (const colls of this.dbs.values())
      for (const coll of colls.values()) packed += coll.docs.cool(age, max - packed);
    return packed;
  }

  /** Starts recording the operations of one command. */
  begin(): WriteSet {
    return new WriteSet(this);
  }

  /** Applies a journal or snapshot record during start-up (no constraint checks: the journal is trusted). */
  replay(record: Doc): void {
    const t = record['t'];
    if (t === 'coll' || t === 'docs') {
      const db = String(record['db']);
      const c = String(record['c']);
      if (t === 'coll') {
        const coll = this.ensure(db, c, isDoc(record['options']) ? record['options'] : {});
        const indexes = Array.isArray(record['indexes']) ? record['indexes'] : [];
        for (const spec of indexes)
          if (isDoc(spec) && spec['name'] !== '_id_') coll.addIndex(makeIndex(spec));
      } else {
        const coll = this.ensure(db, c, {});
        const docs = Array.isArray(record['docs']) ? record['docs'] : [];
        for (const doc of docs) if (isDoc(doc)) coll.put(doc);
      }
      return;
    }
    const ops = Array.isArray(record['ops']) ? record['ops'] : [];
    for (const op of ops) if (isDoc(op)) this.apply(op);
  }

  private apply(op: Doc): void {
    const db = String(op['db']);
    const c = String(op['c']);
    switch (op['o']) {
      case 'put': {
        const doc = op['doc'];
        if (isDoc(doc)) this.ensure(db, c, {}).put(doc);
        break;
      }
      case 'del':
        this.get(db, c)?.remove(keyOf(op['id']));
        break;
      case 'mkc':
        this.ensure(db, c, isDoc(op['options']) ? op['options'] : {});
        break;
      case 'drc':
        this.dbs.get(db)?.delete(c);
        break;
      case 'drd':
        this.dbs.delete(db);
        break;
      case 'mki': {
        const spec = op['spec'];
        const coll = this.ensure(db, c, {});
        if (isDoc(spec) && !coll.indexes.some((i) => i.name === spec['name'])) coll.addIndex(makeIndex(spec));
        break;
      }
      case 'dri':
        this.get(db, c)?.dropIndex(String(op['name']));
        break;
      default:
        break;
    }
  }

  /** Returns the collection, creating it (unjournaled; callers journal `mkc`) when missing. */
  ensure(db: string, name: string, options: Doc): Collection {
    let colls = this.dbs.get(db);
    if (!colls) {
      colls = new Map();
      this.dbs.set(db, colls);
    }
    let coll = colls.get(name);
    if (!coll) {
      coll = new Collection(db, name, options);
      coll.indexLookups = this.lookups;
      colls.set(name, coll);
    }
    return coll;
  }

  /**
   * The whole state as snapshot records (see journal.ts), as it is now. Only the lists of documents
   * are taken here, synchronously: stored documents are never changed in place (a write swaps in a
   * new object), so the records, sized and chunked as they are read, still hold this moment's state
   * after later writes. That lets the journal write a large snapshot without stopping the server.
   */
  snapshotRecords(): Iterable<Doc> {
    const colls: CapturedCollection[] = [];
    for (const [db, byName] of this.dbs) {
      for (const [c, coll] of byName) {
        colls.push({
          db,
          c,
          options: coll.options,
          indexes: coll.indexes.map((i) => i.spec),
          docs: coll.docs.capture(),
        });
      }
    }
    return snapshotChunks(colls);
  }
}

/** A collection as a snapshot took it: its settings, and the list of its documents at that moment. */
interface CapturedCollection {
  db: string;
  c: string;
  options: Doc;
  indexes: Doc[];
  docs: Held[];
}

/** Snapshot records of captured collections: one `coll` record each, then its documents in chunks. */
function* snapshotChunks(colls: CapturedCollection[]): Generator<Doc> {
  for (const { db, c, options, indexes, docs } of colls) {
    yield { t: 'coll', db, c, options, indexes };
    let chunk: Doc[] = [];
    let bytes = 0;
    for (const held of docs) {
      const doc = unpack(held);
      chunk.push(doc);
      bytes += calculateObjectSize(doc);
      if (bytes > SNAPSHOT_RECORD_BYTES) {
        yield { t: 'docs', db, c, docs: chunk };
        chunk = [];
        bytes = 0;
      }
    }
    if (chunk.length) yield { t: 'docs', db, c, docs: chunk };
  }
}

/** The operations of one command, journaled together as one record. */
export class WriteSet {
  private readonly store: Store;
  private readonly ops: Op[] = [];

  constructor(store: Store) {
    this.store = store;
  }

  /** The collection, created (and journaled) when missing, as MongoDB does on first write. */
  collection(db: string, name: string): { coll: Collection; created: boolean } {
    const existing = this.store.get(db, name);
    if (existing) return { coll: existing, created: false };
    const coll = this.store.ensure(db, name, {});
    this.ops.push({ o: 'mkc', db, c: name, options: {} });
    return { coll, created: true };
  }

  /** Creates a collection with options. */
  create(db: string, name: string, options: Doc): Collection {
    const coll = this.store.ensure(db, name, options);
    this.ops.push({ o: 'mkc', db, c: name, options });
    return coll;
  }

  /** Inserts or replaces a document after checking unique indexes (throws E11000, changing nothing). */
  put(coll: Collection, doc: Doc, replacing: boolean): void {
    coll.checkUnique(doc, replacing);
    coll.put(doc);
    this.ops.push({ o: 'put', db: coll.db, c: coll.name, doc });
  }

  /** Deletes a document. */
  remove(coll: Collection, doc: Doc): void {
    coll.remove(keyOf(doc['_id']));
    this.ops.push({ o: 'del', db: coll.db, c: coll.name, id: doc['_id'] });
  }

  /** Adds an index (throws E11000 if existing data violates it). */
  addIndex(coll: Collection, spec: Doc): void {
    coll.addIndex(makeIndex(spec));
    this.ops.push({ o: 'mki', db: coll.db, c: coll.name, spec });
  }

  /** Drops one index by name. */
  dropIndex(coll: Collection, name: string): void {
    coll.dropIndex(name);
    this.ops.push({ o: 'dri', db: coll.db, c: coll.name, name });
  }

  /** Drops a collection. */
  dropCollection(db: string, name: string): void {
    this.store.dbs.get(db)?.delete(name);
    this.ops.push({ o: 'drc', db, c: name });
  }

  /** Drops a database. */
  dropDatabase(db: string): void {
    this.store.dbs.delete(db);
    this.ops.push({ o: 'drd', db });
  }

  /** Makes the recorded operations durable; resolves when the reply may be sent. */
  commit(): Promise<void> {
    if (!this.ops.length || !this.store.journal) return Promise.resolve();
    const ops = this.ops.splice(0);
    const journal = this.store.journal;
    // One record per ~4 MiB of operations, so that a huge multi-update never exceeds BSON's limit.
    const records: Op[][] = [[]];
    let bytes = 0;
    for (const op of ops) {
      const size = op.o === 'put' ? calculateObjectSize(op.doc) : 64;
      if (bytes + size > JOURNAL_RECORD_BYTES && (records.at(-1)?.length ?? 0) > 0) {
        records.push([]);
        bytes = 0;
      }
      records.at(-1)?.push(op);
      bytes += size;
    }
    return Promise.all(records.map((r) => journal.append({ ops: r }))).then(() => undefined);
  }
}
