import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { CaseError } from '../cases/errors.js';

/**
 * The API's own error codes (the case layer's come from `CASE_ERRORS`). The console shows
 * `console.errors.<code>` from locales/; the message here is for developers of other systems.
 */
export const API_ERRORS = {
  UNAUTHENTICATED: {
    status: 401,
    message: 'Log in (POST /api/v1/session) and send the session cookie or a Bearer token.',
  },
  INVALID_CREDENTIALS: { status: 401, message: 'The email or the password is wrong.' },
  ACCOUNT_LOCKED: { status: 423, message: 'Too many failed logins: the account is locked for a while.' },
  CSRF: {
    status: 403,
    message:
      'Cookie-authenticated writes need the x-csrf-token header returned at login or by GET /api/v1/me.',
  },
  FORBIDDEN: { status: 403, message: 'Your role does not allow this action.' },
  NOT_ASSIGNEE: {
    status: 403,
    message: 'The case is assigned to another official; a supervisor can reassign it.',
  },
  OFFICIAL_NOT_FOUND: { status: 404, message: 'No active official has this id.' },
  OFFICIAL_NOT_IN_DEPARTMENT: {
    status: 409,
    message: "The official does not work in the case's department.",
  },
  WRONG_PASSWORD: { status: 403, message: 'The current password is wrong.' },
  SAME_PASSWORD: { status: 400, message: 'The new password must differ from the current one.' },
  DEAD_LETTER_NOT_FOUND: {
    status: 404,
    message: "No undelivered message has this id in your departments' cases (it may have been retried).",
  },
  EMAIL_TAKEN: { status: 409, message: 'Another official already has this email.' },
  CITIZEN_UNREACHABLE: {
    status: 409,
    message: 'The citizen can no longer be reached (their data was erased).',
  },
  VALIDATION: { status: 400, message: 'The request does not match the schema; see `issues`.' },
  RATE_LIMITED: { status: 429, message: 'Too many attempts; wait and try again.' },
  NOT_FOUND: { status: 404, message: 'No such route.' },
  INTERNAL: { status: 500, message: 'Something went wrong on our side; it has been logged.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** An error the API answers with its status and `{code, message}`. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number;
  constructor(code: ApiErrorCode) {
    super(API_ERRORS[code].message);
    this.name = 'ApiError';
    this.code = code;
    this.status = API_ERRORS[code].status;
  }
}

/** The JSON error body of every failed API call. */
export interface ErrorBody {
  code: string;
  message: string;
  issues?: unknown;
}

/** Maps API, case-layer, validation and rate-limit errors to their status and `{code, message}`. */
export function handleError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const send = (status: number, body: ErrorBody): FastifyReply => reply.code(status).send(body);
  if (err instanceof ApiError) return send(err.status, { code: err.code, message: err.message });
  if (err instanceof CaseError) return send(err.status, { code: err.code, message: err.message });
  if (hasZodFastifySchemaValidationErrors(err)) {
    return send(400, { code: 'VALIDATION', message: API_ERRORS.VALIDATION.message, issues: err.validation });
  }
  if (err.statusCode === 429)
    return send(429, { code: 'RATE_LIMITED', message: API_ERRORS.RATE_LIMITED.message });
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return send(err.statusCode, { code: err.code, message: err.message });
  }
  req.log.error({ err }, 'console API error');
  return send(500, { code: 'INTERNAL', message: API_ERRORS.INTERNAL.message });
}
