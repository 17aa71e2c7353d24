/**
 * The coded errors of the case layer, in one catalogue (after fastify's `lib/errors.js`): each has a
 * stable `code` that the API and the console switch on, a developer-facing message that says what to
 * do next, and the HTTP status the API answers with. Citizens and officials never read these
 * messages: what they read comes from locales/, keyed by `code`.
 */
export const CASE_ERRORS = {
  CASE_NOT_FOUND: {
    status: 404,
    message: 'No case has this reference. Check the reference (e.g. "C-7K4P9Q") and try again.',
  },
  CASE_NOT_CLAIMABLE: {
    status: 409,
    message: 'The case is not open in a queue: it was claimed by someone else, resolved or closed.',
  },
  CASE_NOT_ASSIGNED: {
    status: 409,
    message: 'Only a case assigned to an official can be released or set to wait; claim it first.',
  },
  CASE_RESOLVED: {
    status: 409,
    message: 'The case is resolved or closed; reopen it before changing it.',
  },
  CASE_NOT_RESOLVED: {
    status: 409,
    message: 'Only a resolved or closed case can be reopened, rated or closed.',
  },
  CASE_ALREADY_RATED: {
    status: 409,
    message: 'The citizen already rated this case; a rating is recorded once.',
  },
  CASE_SAME_DEPARTMENT: {
    status: 409,
    message: 'The case is already in that department; choose another department to transfer to.',
  },
  CASE_CONFLICT: {
    status: 409,
    message: 'The case kept changing while this change was applied; reload it and try again.',
  },
  DEPARTMENT_NOT_FOUND: {
    status: 404,
    message: 'No department has this key; create it (or seed the defaults) before routing cases to it.',
  },
  INVALID_RATING: {
    status: 400,
    message: 'A rating is a whole number from 1 to 5.',
  },
  REFERENCE_EXHAUSTED: {
    status: 503,
    message: 'Could not draw an unused case reference after several attempts; retry the request.',
  },
} as const satisfies Record<string, { status: number; message: string }>;

/** One of the codes in {@link CASE_ERRORS}. */
export type CaseErrorCode = keyof typeof CASE_ERRORS;

/**
 * An error from the case layer, carrying its catalogue code and HTTP status.
 *
 * @example
 * ```ts
 * try { await resolve(db, 'C-7K4P9Q', 'fixed', by); }
 * catch (err) { if (err instanceof CaseError && err.code === 'CASE_RESOLVED') reply.code(err.status); }
 * ```
 */
export class CaseError extends Error {
  readonly code: CaseErrorCode;
  readonly status: number;
  /** The reference the operation was about, when there was one. */
  readonly reference: string | undefined;

  constructor(code: CaseErrorCode, reference?: string) {
    const entry = CASE_ERRORS[code];
    super(reference === undefined ? entry.message : `${entry.message} (${reference})`);
    this.name = 'CaseError';
    this.code = code;
    this.status = entry.status;
    this.reference = reference;
  }
}

/** True when `err` is a {@link CaseError}, optionally of one given code. */
export function isCaseError(err: unknown, code?: CaseErrorCode): err is CaseError {
  return err instanceof CaseError && (code === undefined || err.code === code);
}
