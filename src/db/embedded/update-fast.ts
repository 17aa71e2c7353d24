import { cloneDeep, isEqual } from 'mingo/util';
import { plainPath } from './match.js';
import { isDoc, type Doc } from './values.js';

/*
 * `$set`, `$unset`, `$inc`, numeric `$max` and `$push` (of one value, or `$each` with an optional
 * `$slice`: the conversation state's recent lines, at every turn) on plain or dotted paths through
 * sub-documents, without mingo's updater (which copies its operator table and deep-clones the
 * document on every call). The result is the document mingo's updater produces (checked against
 * it by `test/db/fast-paths.test.ts`); whenever mingo's answer would differ from a plain walk — an
 * array, `null` or a scalar on the path, `$inc` or `$max` of a non-number, `_id`, positional
 * operators, conflicting paths, any other operator — the caller is told to use mingo (undefined).
 *
 * The input is never modified: the result is a copy along the changed paths, sharing every
 * untouched sub-document with the input (stored documents are never mutated in place, so sharing
 * is safe; cursors keep their snapshots).
 */

const FAST_OPERATORS = new Set(['$set', '$unset', '$inc', '$max', '$push']);

type Step =
  | { op: '$set'; parts: string[]; value: unknown }
  | { op: '$unset'; parts: string[] }
  | { op: '$inc'; parts: string[]; amount: number }
  | { op: '$max'; parts: string[]; value: number }
  | { op: '$push'; parts: string[]; items: unknown[]; slice: number | undefined };

/**
 * A `$push` operand as items and slice: a plain value is one item; `{ $each, $slice }` (an array, an
 * integer) is served here, and any other modifier (`$position`, `$sort`) or odd shape is mingo's.
 */
function pushOperand(value: unknown): { items: unknown[]; slice: number | undefined } | undefined {
  if (!isDoc(value) || !Object.keys(value).some((k) => k.startsWith('$')))
    return { items: [value], slice: undefined };
  const { $each: each, $slice: slice, ...rest } = value;
  if (Object.keys(rest).length > 0 || !Array.isArray(each)) return undefined;
  if (slice !== undefined && !(typeof slice === 'number' && Number.isInteger(slice))) return undefined;
  return { items: each, slice };
}

/** The steps of `modifier` in application order, or undefined when mingo must apply it. */
function plan(modifier: Doc): Step[] | undefined {
  const steps: Step[] = [];
  const paths = new Set<string>();
  for (const op of Object.keys(modifier)) {
    if (!FAST_OPERATORS.has(op)) return undefined;
    const expr = modifier[op];
    if (!isDoc(expr)) return undefined;
    for (const path of Object.keys(expr)) {
      const parts = plainPath(path);
      if (!parts || parts[0] === '_id' || paths.has(path)) return undefined;
      const value = expr[path];
      paths.add(path);
      if (op === '$set') steps.push({ op, parts, value });
      else if (op === '$unset') steps.push({ op, parts });
      else if (op === '$push') {
        const push = pushOperand(value);
        if (!push) return undefined;
        steps.push({ op, parts, ...push });
      } else if (typeof value !== 'number' || Number.isNaN(value))
        // mingo's own error for `$inc: { a: 'x' }` stays mingo's, as does its ordering of other types.
        return undefined;
      else if (op === '$inc') steps.push({ op, parts, amount: value });
      else steps.push({ op: '$max', parts, value });
    }
  }
  // `a` with `a.b` is a conflict (an error in mingo and MongoDB alike): mingo reports it.
  for (const { parts } of steps) {
    let prefix = parts[0] ?? '';
    for (let i = 1; i < parts.length; i++) {
      if (paths.has(prefix)) return undefined;
      prefix += `.${parts[i] ?? ''}`;
    }
  }
  return steps;
}

/**
 * Applies an operator update made only of `$set`/`$unset`/`$inc`/`$max`/`$push` (with `$setOnInsert` already
 * folded into `$set` by the caller) and returns the new document, or undefined when mingo's
 * updater must do it.
 */
export function fastUpdate(doc: Doc, modifier: Doc): Doc | undefined {
  const steps = plan(modifier);
  if (!steps) return undefined;
  const root: Doc = { ...doc };
  const owned = new Set<Doc>([root]);
  /** The sub-document at `key` of `node`, copied first if it is still shared with the input. */
  const own = (node: Doc, key: string, child: Doc): Doc => {
    if (owned.has(child)) return child;
    const copy = { ...child };
    node[key] = copy;
    owned.add(copy);
    return copy;
  };
  for (const step of steps) {
    const { parts } = step;
    const last = parts.length - 1;
    const leaf = parts[last] ?? '';
    let node = root;
    if (step.op === '$unset') {
      // Read first: an `$unset` of a missing field copies nothing.
      let probe: Doc = root;
      let missing = false;
      for (let i = 0; i < last; i++) {
        const next = probe[parts[i] ?? ''];
        if (isDoc(next)) probe = next;
        else if (
          next === undefined ||
          next === null ||
          (typeof next !== 'object' && typeof next !== 'function')
        ) {
          missing = true; // mingo stops silently at a scalar; so does MongoDB's `$unset`
          break;
        } else return undefined;
      }
      if (missing || !Object.prototype.hasOwnProperty.call(probe, leaf)) continue;
      for (let i = 0; i < last; i++) {
        const key = parts[i] ?? '';
        const next = node[key];
        if (!isDoc(next)) return undefined;
        node = own(node, key, next);
      }
      Reflect.deleteProperty(node, leaf);
      continue;
    }
    for (let i = 0; i < last; i++) {
      const key = parts[i] ?? '';
      const next = node[key];
      if (next === undefined) {
        const fresh: Doc = {};
        node[key] = fresh;
        owned.add(fresh);
        node = fresh;
      } else if (isDoc(next)) node = own(node, key, next);
      else return undefined; // null, a scalar, an array or a BSON class on the path: mingo's rules
    }
    const current = node[leaf];
    if (step.op === '$push') {
      // A missing field becomes the array, but with `$slice` it stays mingo's (which, unlike MongoDB,
      // does not slice a new array: the two paths must agree). Anything but an array is mingo's too.
      const before: unknown[] | undefined = Array.isArray(current) ? current : undefined;
      if (before === undefined && (current !== undefined || step.slice !== undefined)) return undefined;
      const all: unknown[] = [...(before ?? []), ...step.items.map((item) => cloneDeep(item))];
      const { slice } = step;
      node[leaf] = slice === undefined ? all : slice < 0 ? all.slice(slice) : all.slice(0, slice);
    } else if (step.op === '$inc') {
      let base = 0;
      if (current !== undefined) {
        // mingo skips a non-numeric field silently where MongoDB fails: its behaviour stands.
        if (typeof current !== 'number' || Number.isNaN(current)) return undefined;
        base = current || 0;
      }
      node[leaf] = base + step.amount;
    } else if (step.op === '$max') {
      if (current === undefined) node[leaf] = step.value;
      else if (typeof current !== 'number' || Number.isNaN(current)) return undefined;
      else if (step.value > current) node[leaf] = step.value;
    } else if (!isEqual(current, step.value)) {
      node[leaf] = cloneDeep(step.value);
    }
  }
  return root;
}
