/**
 * The project's coded errors, in one catalogue (as fastify keeps lib/errors.js): each has a stable
 * code, an HTTP status, and a message that says what to do next. Messages here are for operators
 * and API clients, never for citizens (those live in locales/).
 */
export const ERRORS = {
  CONFIG_INVALID: {
    status: 500,
    message: 'Invalid configuration: %s. Fix the environment variable and restart.',
  },
  NLU_CORPUS_MISSING: {
    status: 500,
    message: 'Intent corpus not found: %s. Check the path or the intents/ folder.',
  },
  DB_UNREACHABLE: {
    status: 503,
    message: 'Cannot reach MongoDB at %s. Check MONGODB_URI, or unset it to use the embedded database.',
  },
  ACTIVITY_INVALID: { status: 400, message: 'Invalid message: %s.' },
  CHANNEL_UNKNOWN: {
    status: 500,
    message: 'No renderer is registered for channel "%s". Enable that channel.',
  },
  CHANNEL_SEND_FAILED: { status: 502, message: 'Sending on channel "%s" failed: %s. It will be retried.' },
  CASE_NOT_FOUND: { status: 404, message: 'Case %s not found.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/**
 * An error with a catalogued code. `retryAfterMs` lets a channel pass on a platform's back-off hint;
 * `permanent` says retrying cannot help (a platform refused for good), so the outbox dead-letters at once.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  readonly permanent: boolean;

  constructor(
    code: ErrorCode,
    args: readonly string[] = [],
    opts: { cause?: unknown; retryAfterMs?: number; permanent?: boolean } = {},
  ) {
    let i = 0;
    super(
      ERRORS[code].message.replace(/%s/g, () => args[i++] ?? ''),
      opts.cause === undefined ? undefined : { cause: opts.cause },
    );
    this.name = 'AppError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.retryAfterMs = opts.retryAfterMs;
    this.permanent = opts.permanent ?? false;
  }
}
