import { CommandError } from './errors.js';
import { isDoc, type Doc } from './values.js';

/*
 * Readers for command fields: the edge where an untyped BSON command becomes typed values. They
 * answer with MongoDB's own TypeMismatch (14) rather than a generic validation error, because
 * drivers and tests match on those codes.
 */

function mismatch(field: string, expected: string, value: unknown): CommandError {
  const got = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  return new CommandError(
    'TypeMismatch',
    `BSON field '${field}' is the wrong type '${got}', expected type '${expected}'`,
  );
}

/** An optional string field. */
export function optString(body: Doc, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw mismatch(field, 'string', v);
  return v;
}

/** An optional number (any BSON numeric type the driver sends; Longs arrive promoted). */
export function optNumber(body: Doc, field: string): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw mismatch(field, 'number', v);
}

/** An optional boolean; MongoDB also accepts numbers here, read as truthiness. */
export function optBool(body: Doc, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  throw mismatch(field, 'bool', v);
}

/** An optional sub-document. */
export function optDoc(body: Doc, field: string): Doc | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (!isDoc(v)) throw mismatch(field, 'object', v);
  return v;
}

/** An optional array. */
export function optArray(body: Doc, field: string): unknown[] | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw mismatch(field, 'array', v);
  return v;
}

/** An optional array of sub-documents. */
export function optDocs(body: Doc, field: string): Doc[] | undefined {
  const arr = optArray(body, field);
  if (!arr) return undefined;
  return arr.map((v, i) => {
    if (!isDoc(v)) throw mismatch(`${field}.${i}`, 'object', v);
    return v;
  });
}

/** The collection named by the command's first field (e.g. `{ find: "cases" }`). */
export function collectionName(body: Doc, command: string): string {
  const v = body[command];
  if (typeof v !== 'string' || v.length === 0) {
    throw new CommandError('InvalidNamespace', `collection name has invalid type ${typeof v}`);
  }
  if (v.includes('\0') || v.startsWith('.') || v.includes('$')) {
    throw new CommandError('InvalidNamespace', `Invalid collection name: ${v}`);
  }
  return v;
}
