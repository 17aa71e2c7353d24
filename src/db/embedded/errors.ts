/**
 * MongoDB's own error codes, so that drivers and mongoose raise exactly what they raise against a
 * real server (e.g. `MongoServerError` with `code: 11000`).
 */
export const ErrorCodes = {
  BadValue: 2,
  FailedToParse: 9,
  TypeMismatch: 14,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  CursorNotFound: 43,
  NamespaceExists: 48,
  CommandNotFound: 59,
  ImmutableField: 66,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  CommandNotSupported: 115,
  OperationNotSupportedInTransaction: 263,
  BSONObjectTooLarge: 10334,
  DuplicateKey: 11000,
} as const;

/** A MongoDB code name, as sent back in `codeName`. */
export type CodeName = keyof typeof ErrorCodes;

/**
 * An error a command answers with `ok: 0` (or, inside a write batch, as one `writeErrors` entry).
 * `extra` carries fields a driver reads beside the code, such as `keyPattern`/`keyValue` on 11000.
 */
export class CommandError extends Error {
  readonly code: number;
  readonly codeName: CodeName;
  readonly extra: Record<string, unknown>;

  constructor(codeName: CodeName, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = 'CommandError';
    this.codeName = codeName;
    this.code = ErrorCodes[codeName];
    this.extra = extra;
  }

  /** The reply body MongoDB sends for this error. */
  toReply(): Record<string, unknown> {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }

  /** The `writeErrors` entry for the `index`-th operation of a write batch. */
  toWriteError(index: number): Record<string, unknown> {
    return { index, code: this.code, errmsg: this.message, ...this.extra };
  }
}

/** Wraps anything thrown by the query engine into a `BadValue`, keeping its message. */
export function asCommandError(err: unknown): CommandError {
  if (err instanceof CommandError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new CommandError('BadValue', message);
}
