import { Binary, ObjectId, EJSON } from 'bson';

/** A BSON document as the server holds it (after `bson.deserialize`). */
export type Doc = Record<string, unknown>;

/** True for plain objects (sub-documents), false for arrays, dates and BSON value classes. */
export function isDoc(value: unknown): value is Doc {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * `prefix` followed by `rest`, as one flat string. A template literal or `+` makes a rope (V8's
 * ConsString: an object pointing at both parts) once the result is 13 characters or longer. Keys
 * of the server's maps live as long as their documents, and as ropes each is two or three heap
 * objects instead of one, for every full garbage collection of the server's thread to mark: for
 * 96,000 stored messages held as objects, a forced full collection took 100 ms with ropes and 65
 * ms with flat keys (an ObjectId's key is 26 characters).
 */
export function flat(prefix: string, rest: string): string {
  return [prefix, rest].join('');
}

/**
 * A canonical string for a BSON value, equal for values MongoDB's indexes treat as equal
 * (numbers compare by value whatever their BSON width; `null` and a missing field are one key).
 * It keys the `_id` map and the unique indexes.
 */
export function keyOf(value: unknown): string {
  if (value === undefined || value === null) return 'N';
  switch (typeof value) {
    case 'number':
      return Object.is(value, -0) ? 'n:0' : flat('n:', String(value));
    case 'bigint':
      return flat('n:', String(value));
    case 'string':
      return flat('s:', JSON.stringify(value));
    case 'boolean':
      return value ? 'b:1' : 'b:0';
    default:
      break;
  }
  if (value instanceof Date) return flat('d:', String(value.getTime()));
  if (value instanceof ObjectId) return flat('o:', value.toHexString());
  if (value instanceof RegExp) return `r:${value.source}/${value.flags}`;
  if (value instanceof Binary) return `B:${value.sub_type}:${value.toString('base64')}`;
  if (Array.isArray(value)) return `[${value.map(keyOf).join(',')}]`;
  if (isDoc(value)) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${keyOf(v)}`)
      .join(',')}}`;
  }
  return `x:${EJSON.stringify({ v: value }, { relaxed: false })}`;
}

/**
 * The values found at a dotted path, descending into arrays as MongoDB's multikey indexes do.
 * An empty result means the path is missing.
 */
export function valuesAt(doc: unknown, path: string): unknown[] {
  const out: unknown[] = [];
  pushValuesAt(out, path.split('.'), doc, 0);
  return out;
}

// Module-level functions, not closures made per call: this runs for every path of every match.
function pushValuesAt(out: unknown[], parts: string[], node: unknown, i: number): void {
  if (i === parts.length) {
    if (Array.isArray(node)) {
      if (node.length === 0) out.push(undefined);
      else out.push(...node);
    } else out.push(node);
    return;
  }
  const part = parts[i] ?? '';
  if (Array.isArray(node)) {
    if (/^\d+$/.test(part) && Number(part) < node.length) {
      pushValuesAt(out, parts, node[Number(part)], i + 1);
      return;
    }
    for (const el of node) if (isDoc(el)) pushValuesInDoc(out, parts, el, i);
    return;
  }
  if (isDoc(node)) pushValuesInDoc(out, parts, node, i);
}

function pushValuesInDoc(out: unknown[], parts: string[], node: Doc, i: number): void {
  const part = parts[i] ?? '';
  if (Object.prototype.hasOwnProperty.call(node, part)) pushValuesAt(out, parts, node[part], i + 1);
}

/** The single value at a dotted path without array traversal (`undefined` when missing). */
export function valueAt(doc: Doc, path: string): unknown {
  let node: unknown = doc;
  for (const part of path.split('.')) {
    if (Array.isArray(node) && /^\d+$/.test(part)) node = node[Number(part)];
    else if (isDoc(node) && Object.prototype.hasOwnProperty.call(node, part)) node = node[part];
    else return undefined;
  }
  return node;
}

/** Renders a value the way MongoDB prints it in an E11000 message (`{ email: "a@b" }`). */
export function renderKeyValue(doc: Doc): string {
  const parts = Object.entries(doc).map(([k, v]) => `${k}: ${renderValue(v)}`);
  return parts.length ? `{ ${parts.join(', ')} }` : '{}';
}

function renderValue(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof ObjectId) return `ObjectId('${v.toHexString()}')`;
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (Array.isArray(v)) return `[ ${v.map(renderValue).join(', ')} ]`;
  if (isDoc(v)) return renderKeyValue(v);
  return String(v);
}
