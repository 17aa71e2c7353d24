import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Types } from 'mongoose';
import type { Db } from '../db/connection.js';
import type { OfficialRecord, OfficialRole } from '../db/models/index.js';
import type { Lang } from '../nlu/catalog.js';
import { ApiError } from './errors.js';
import { decoyHash, generatePassword, hashPassword, verifyPassword } from './password.js';
import {
  findSession,
  openSession,
  SESSION_MAX_MS,
  slideSession,
  type ConsoleSessionModel,
} from './session.js';

/** Failed logins in a row that lock an account, and for how long. */
export const LOCKOUT_THRESHOLD = 5;
export const LOCKOUT_MS = 15 * 60_000;

/** The name of the console's session cookie. */
export const SESSION_COOKIE = 'console_session';

/** The official behind an authenticated request. */
export interface Principal {
  id: string;
  _id: Types.ObjectId;
  email: string;
  name: string;
  role: OfficialRole;
  departments: string[];
  uiLang: Lang;
  csrfToken: string;
  sessionId: Types.ObjectId;
  via: 'cookie' | 'bearer';
}

const principals = new WeakMap<FastifyRequest, Principal>();

/** The authenticated official of a request that went through {@link authenticate}. */
export function principal(req: FastifyRequest): Principal {
  const found = principals.get(req);
  if (found === undefined) throw new ApiError('UNAUTHENTICATED');
  return found;
}

function bearer(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+([A-Za-z0-9_-]{20,200})$/.exec(header);
  return match?.[1];
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A preHandler that finds the session from `Authorization: Bearer` or the session cookie and loads its
 * active official. Cookie-authenticated writes must also carry the session's CSRF token in
 * `x-csrf-token` (double submit): a cross-site form can send the cookie but cannot read the token.
 * Bearer clients are not exposed to CSRF (browsers never add that header by themselves).
 */
export function authenticate(db: Pick<Db, 'Official'>, sessions: ConsoleSessionModel, clock: () => Date) {
  return async (req: FastifyRequest): Promise<void> => {
    const fromHeader = bearer(req);
    const token = fromHeader ?? req.cookies[SESSION_COOKIE];
    if (token === undefined || token === '') throw new ApiError('UNAUTHENTICATED');
    const session = await findSession(sessions, token, clock());
    if (session === null) throw new ApiError('UNAUTHENTICATED');
    const official = await db.Official.findOne({
      _id: session.officialId,
      active: true,
    }).lean<OfficialRecord>();
    if (official === null) throw new ApiError('UNAUTHENTICATED');
    const via = fromHeader !== undefined ? 'bearer' : 'cookie';
    if (via === 'cookie' && !SAFE_METHODS.has(req.method)) {
      const sent = req.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !sameSecret(sent, session.csrfToken)) throw new ApiError('CSRF');
    }
    await slideSession(sessions, session, clock());
    principals.set(req, {
      id: official._id.toHexString(),
      _id: official._id,
      email: official.email,
      name: official.name,
      role: official.role,
      departments: official.departments,
      uiLang: official.uiLang,
      csrfToken: session.csrfToken,
      sessionId: session._id,
      via,
    });
  };
}

/** Rejects the request unless the official has one of `roles`. */
export function requireRole(...roles: OfficialRole[]) {
  return async (req: FastifyRequest): Promise<void> => {
    if (!roles.includes(principal(req).role)) throw new ApiError('FORBIDDEN');
  };
}

/** Whether the request reached us over TLS, directly or per PUBLIC_URL behind a proxy. */
function overTls(req: FastifyRequest, publicUrl: string | undefined): boolean {
  return req.protocol === 'https' || (publicUrl?.startsWith('https:') ?? false);
}

/**
 * Checks the password (scrypt, constant-time; a decoy hash for unknown emails so timing does not
 * reveal which exist), counts failures and locks the account for {@link LOCKOUT_MS} after
 * {@link LOCKOUT_THRESHOLD} in a row; on success opens a session and sets its cookie.
 */
export async function login(
  deps: { db: Pick<Db, 'Official'>; sessions: ConsoleSessionModel; clock: () => Date; publicUrl?: string },
  req: FastifyRequest,
  reply: FastifyReply,
  credentials: { email: string; password: string },
): Promise<{ official: OfficialRecord; token: string; csrfToken: string; expiresAt: Date }> {
  const { db, sessions, clock } = deps;
  const now = clock();
  const email = credentials.email.trim().toLowerCase();
  const official = await db.Official.findOne({ email }).lean<OfficialRecord>();
  if (official?.lockedUntil !== undefined && official.lockedUntil > now) {
    throw new ApiError('ACCOUNT_LOCKED');
  }
  const ok = await verifyPassword(credentials.password, official?.passwordHash ?? (await decoyHash()));
  if (official === null || !official.active || !ok) {
    if (official !== null) {
      const counted = await db.Official.findOneAndUpdate(
        { _id: official._id },
        { $inc: { failedLogins: 1 } },
        { returnDocument: 'after' },
      ).lean<OfficialRecord>();
      if (counted !== null && counted.failedLogins >= LOCKOUT_THRESHOLD) {
        await db.Official.updateOne(
          { _id: official._id },
          { $set: { lockedUntil: new Date(now.getTime() + LOCKOUT_MS), failedLogins: 0 } },
        );
      }
    }
    throw new ApiError('INVALID_CREDENTIALS');
  }
  await db.Official.updateOne(
    { _id: official._id },
    { $set: { failedLogins: 0, lastLoginAt: now }, $unset: { lockedUntil: 1 } },
  );
  const opened = await openSession(sessions, official._id, now);
  reply.setCookie(SESSION_COOKIE, opened.token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: overTls(req, deps.publicUrl),
    path: '/',
    // The cookie lives as long as the session's cap; the server ends idle sessions sooner.
    maxAge: Math.floor(SESSION_MAX_MS / 1000),
  });
  return { official, ...opened };
}

/** Ends the session of `token` and clears the cookie. */
export async function logout(
  sessions: ConsoleSessionModel,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  await sessions.deleteOne({ _id: principal(req).sessionId });
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}

/** Ends every session of an official (password reset, account disabled), except `keep` if given. */
export async function revokeSessions(
  sessions: ConsoleSessionModel,
  officialId: Types.ObjectId,
  keep?: Types.ObjectId,
): Promise<void> {
  await sessions.deleteMany({ officialId, ...(keep !== undefined ? { _id: { $ne: keep } } : {}) });
}

/** What {@link ensureAdmin} did. */
export type EnsureAdminResult =
  { created: false } | { created: true; email: string; generatedPassword?: string };

/**
 * First run: when no admin exists, creates one from `email`/`password` (CONSOLE_ADMIN_EMAIL /
 * CONSOLE_ADMIN_PASSWORD), or with a generated password that the caller prints once. Does nothing
 * once an admin exists, so restarts never reset a password.
 *
 * @example
 * const result = await ensureAdmin(db, { email: config.CONSOLE_ADMIN_EMAIL, password: config.CONSOLE_ADMIN_PASSWORD });
 * if (result.created && result.generatedPassword) process.stdout.write(`admin password: ${result.generatedPassword}\n`);
 */
export async function ensureAdmin(
  db: Pick<Db, 'Official'>,
  opts: { email?: string | undefined; password?: string | undefined },
): Promise<EnsureAdminResult> {
  if ((await db.Official.exists({ role: 'admin', active: true })) !== null) return { created: false };
  const email = (opts.email ?? 'admin@localhost').trim().toLowerCase();
  const generated = opts.password === undefined || opts.password === '' ? generatePassword() : undefined;
  const passwordHash = await hashPassword(generated ?? opts.password ?? '');
  await db.Official.findOneAndUpdate(
    { email },
    {
      $set: { role: 'admin', active: true, passwordHash, failedLogins: 0 },
      $setOnInsert: { email, name: 'Administrator', departments: [], uiLang: 'en' },
      $unset: { lockedUntil: 1 },
    },
    { upsert: true },
  );
  return { created: true, email, ...(generated !== undefined ? { generatedPassword: generated } : {}) };
}
