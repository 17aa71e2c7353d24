import { createHash, randomBytes } from 'node:crypto';
import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * A console session. Only the SHA-256 of the token is stored, so a copy of the database does not
 * let anyone log in; the CSRF token is the double-submit secret for cookie-authenticated writes.
 */
export interface ConsoleSession {
  tokenHash: string;
  officialId: Types.ObjectId;
  csrfToken: string;
  /** Slides forward on activity ({@link SESSION_IDLE_MS}), never past {@link ConsoleSession.capAt}. */
  expiresAt: Date;
  /** The hard end of the session, however active: {@link SESSION_MAX_MS} after login. */
  capAt?: Date;
  createdAt: Date;
}

export type ConsoleSessionModel = Model<ConsoleSession>;

const sessionSchema = new Schema<ConsoleSession>(
  {
    tokenHash: { type: String, required: true },
    officialId: { type: Schema.Types.ObjectId, required: true },
    csrfToken: { type: String, required: true },
    expiresAt: { type: Date, required: true },
    capAt: { type: Date },
  },
  { collection: 'console_sessions', timestamps: { createdAt: true, updatedAt: false }, versionKey: false },
);
sessionSchema.index({ tokenHash: 1 }, { unique: true });
// Expired sessions disappear on their own; the lookup also checks expiresAt, as TTL runs once a minute.
sessionSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });
sessionSchema.index({ officialId: 1 });

const ready = new WeakMap<Connection, Promise<ConsoleSessionModel>>();

/** The session model on `connection`, registered once with its indexes built. */
export function sessionModel(connection: Connection): Promise<ConsoleSessionModel> {
  let model = ready.get(connection);
  if (model === undefined) {
    const m: ConsoleSessionModel =
      (connection.models.ConsoleSession as ConsoleSessionModel | undefined) ??
      connection.model<ConsoleSession>('ConsoleSession', sessionSchema);
    model = m
      .init()
      .then(() => m.createIndexes())
      .then(() => m);
    ready.set(connection, model);
  }
  return model;
}

/** An idle session ends after this long; each authenticated request pushes the end forward. */
export const SESSION_IDLE_MS = 2 * 3_600_000;
/** However active, a session ends this long after login (one working day), and the cookie with it. */
export const SESSION_MAX_MS = 12 * 3_600_000;
/** Sliding writes at most this often per session, so reads do not each cost a database write. */
const SLIDE_GRANULARITY_MS = 60_000;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Opens a session: the bearer/cookie token and the CSRF token are returned once, in clear. */
export async function openSession(
  sessions: ConsoleSessionModel,
  officialId: Types.ObjectId,
  now: Date,
): Promise<{ token: string; csrfToken: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const capAt = new Date(now.getTime() + SESSION_MAX_MS);
  const expiresAt = new Date(now.getTime() + SESSION_IDLE_MS);
  await sessions.create({ tokenHash: hashToken(token), officialId, csrfToken, expiresAt, capAt });
  return { token, csrfToken, expiresAt };
}

/** The live session of `token`, or null. */
export async function findSession(
  sessions: ConsoleSessionModel,
  token: string,
  now: Date,
): Promise<(ConsoleSession & { _id: Types.ObjectId }) | null> {
  return sessions
    .findOne({ tokenHash: hashToken(token), expiresAt: { $gt: now } })
    .lean<ConsoleSession & { _id: Types.ObjectId }>();
}

/**
 * Activity on a live session pushes its end to `now` + {@link SESSION_IDLE_MS}, capped at its `capAt`
 * (sessions opened before the cap existed are capped {@link SESSION_MAX_MS} after their creation).
 */
export async function slideSession(
  sessions: ConsoleSessionModel,
  session: ConsoleSession & { _id: Types.ObjectId },
  now: Date,
): Promise<void> {
  const cap = session.capAt ?? new Date(session.createdAt.getTime() + SESSION_MAX_MS);
  const next = new Date(Math.min(now.getTime() + SESSION_IDLE_MS, cap.getTime()));
  if (next.getTime() - session.expiresAt.getTime() < SLIDE_GRANULARITY_MS) return;
  await sessions.updateOne({ _id: session._id, expiresAt: { $lt: next } }, { $set: { expiresAt: next } });
}
