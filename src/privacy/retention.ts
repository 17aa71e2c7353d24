import type { Types } from 'mongoose';
import { z } from 'zod';
import { startLeasedJob, type LeasedJob } from '../cases/lease.js';
import type { AuditWriter } from '../console/audit.js';
import type { Db } from '../db/connection.js';
import type { CaseStatus } from '../db/models/index.js';
import { eraseCaseData, eraseCitizenData, type ErasureDb } from './erase.js';

/** How long personal data is kept, in days. */
export interface RetentionPolicy {
  /** Days after a case is resolved or closed before its personal content is erased (RETENTION_DAYS). */
  days: number;
  /** Per-category overrides (RETENTION_DAYS_BY_CATEGORY="corruption=730,suggestion=90"). */
  byCategory: Readonly<Record<string, number>>;
  /**
   * Days a processed inbound or sent outbound message is kept before MongoDB's TTL index deletes it
   * (MESSAGE_RETENTION_DAYS): long enough to de-duplicate a platform's late re-delivery.
   */
  messageDays: number;
}

const days = z.coerce.number().int().min(1).max(36_500);

/**
 * Parses RETENTION_DAYS_BY_CATEGORY: comma-separated `category=days` pairs.
 *
 * @example
 * parseRetentionByCategory('corruption=730, suggestion=90'); // → { corruption: 730, suggestion: 90 }
 */
export function parseRetentionByCategory(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const m = /^([a-z][a-z0-9_]*)\s*=\s*(\d+)$/.exec(part);
    const parsed = m ? days.safeParse(m[2]) : undefined;
    if (!m || m[1] === undefined || !parsed?.success) {
      throw new Error(`RETENTION_DAYS_BY_CATEGORY: "${part}" is not category=days (days 1 to 36500)`);
    }
    out[m[1]] = parsed.data;
  }
  return out;
}

/**
 * The environment variables of retention, as zod schema entries for src/config.ts, and
 * {@link retentionPolicy} to turn the parsed config into a {@link RetentionPolicy}.
 */
export const retentionConfigSchema = {
  RETENTION_DAYS: days.default(365),
  RETENTION_DAYS_BY_CATEGORY: z
    .string()
    .default('')
    .refine(
      (v) => {
        try {
          parseRetentionByCategory(v);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'use category=days pairs separated by commas, e.g. corruption=730,suggestion=90' },
    ),
  MESSAGE_RETENTION_DAYS: days.default(30),
};

/** The {@link RetentionPolicy} of a parsed config. */
export function retentionPolicy(config: {
  RETENTION_DAYS: number;
  RETENTION_DAYS_BY_CATEGORY: string;
  MESSAGE_RETENTION_DAYS: number;
}): RetentionPolicy {
  return {
    days: config.RETENTION_DAYS,
    byCategory: parseRetentionByCategory(config.RETENTION_DAYS_BY_CATEGORY),
    messageDays: config.MESSAGE_RETENTION_DAYS,
  };
}

const DAY_MS = 86_400_000;
const DONE_STATUSES = ['resolved', 'closed'] as const satisfies readonly CaseStatus[];

/** What one retention sweep did. */
export interface RetentionReport {
  /** Cases whose personal content was erased. */
  cases: number;
  /** Citizens erased because nothing of theirs was live and they had not written for the retention period. */
  citizens: number;
  /** Messages given an expiry date (the TTL index deletes them then). */
  messagesScheduled: number;
  /** Conversation states not touched for the retention period, deleted. */
  stateItems: number;
}

// A case still holding anything personal: what a sweep has left to erase.
const HOLDS_PERSONAL_DATA = [
  { citizen: { $exists: true } },
  { 'fields.description': { $exists: true } },
  { 'fields.location': { $exists: true } },
  { 'fields.name': { $exists: true } },
  { 'fields.contact': { $exists: true } },
  { 'fields.photos.0': { $exists: true } },
  { 'transcript.0': { $exists: true } },
  { 'notes.0': { $exists: true } },
  { resolutionNote: { $exists: true } },
];

/**
 * One retention sweep at `now`:
 * - cases resolved or closed more than their category's retention ago lose their personal content
 *   (see `eraseCaseData`; the anonymous facts stay for statistics), one `erased` audit event each;
 * - citizens with no live case who have not written for RETENTION_DAYS are erased entirely;
 * - conversation state untouched for RETENTION_DAYS is deleted;
 * - processed inbound and sent outbound messages get `expireAt` = now + messageDays, so MongoDB's TTL
 *   index deletes them (failed and dead-lettered messages stay visible until their case is erased).
 * Work is done in batches of `limit` cases/citizens, so one sweep stays short; the next continues.
 *
 * @example
 * await retentionSweep(db, { days: 365, byCategory: { corruption: 730 }, messageDays: 30 }, new Date());
 */
export async function retentionSweep(
  db: ErasureDb,
  policy: RetentionPolicy,
  now: Date,
  options: { limit?: number; audit?: AuditWriter } = {},
): Promise<RetentionReport> {
  const limit = options.limit ?? 500;
  const by = { kind: 'system' } as const;
  const erasure = {
    by,
    reason: 'retention',
    now,
    ...(options.audit ? { audit: options.audit } : {}),
  } as const;
  const cutoff = (d: number): Date => new Date(now.getTime() - d * DAY_MS);
  const special = Object.keys(policy.byCategory);
  const groups: { category: string | { $nin: string[] }; before: Date }[] = [
    { category: { $nin: special }, before: cutoff(policy.days) },
    ...Object.entries(policy.byCategory).map(([category, d]) => ({ category, before: cutoff(d) })),
  ];

  let cases = 0;
  for (const group of groups) {
    const due = await db.Case.find({
      category: group.category,
      status: { $in: DONE_STATUSES },
      $and: [
        {
          $or: [
            { closedAt: { $lte: group.before } },
            { closedAt: { $exists: false }, resolvedAt: { $lte: group.before } },
          ],
        },
        { $or: HOLDS_PERSONAL_DATA },
      ],
    })
      .select({ _id: 1 })
      .limit(limit)
      .lean<{ _id: Types.ObjectId }[]>();
    cases += (
      await eraseCaseData(
        db,
        due.map((c) => c._id),
        erasure,
      )
    ).cases;
  }

  let citizens = 0;
  const idle = await db.Citizen.find({
    erasedAt: { $exists: false },
    lastSeenAt: { $lte: cutoff(policy.days) },
  })
    .select({ _id: 1 })
    .limit(limit)
    .lean();
  for (const { _id } of idle) {
    if ((await db.Case.exists({ citizen: _id, status: { $nin: DONE_STATUSES } })) !== null) continue;
    citizens += (await eraseCitizenData(db, _id, erasure)).citizens;
  }

  const state = await db.StateItem.deleteMany({ updatedAt: { $lte: cutoff(policy.days) } });

  const expireAt = new Date(now.getTime() + policy.messageDays * DAY_MS);
  const inbound = await db.InboundMessage.updateMany(
    { status: 'done', expireAt: { $exists: false } },
    { $set: { expireAt } },
  );
  const outbound = await db.OutboundMessage.updateMany(
    { status: 'sent', expireAt: { $exists: false } },
    { $set: { expireAt } },
  );

  return {
    cases,
    citizens,
    messagesScheduled: inbound.modifiedCount + outbound.modifiedCount,
    stateItems: state.deletedCount,
  };
}

/** The lease the retention sweeper holds while it runs, so only one app instance sweeps. */
export const RETENTION_SWEEPER_LEASE = 'retention-sweeper';

/** Options of {@link startRetentionSweeper}. */
export interface RetentionSweeperOptions {
  /** This app instance's id (unique per process). */
  owner: string;
  policy: RetentionPolicy;
  /** Time between sweeps (default one hour). */
  intervalMs?: number;
  /** Called after each sweep that did something (for a log line with the counts). */
  onSweep?: (report: RetentionReport) => void;
  onError?: (err: unknown) => void;
  clock?: () => Date;
}

/**
 * Runs {@link retentionSweep} every `intervalMs` while this instance holds the retention lease (taken
 * for three intervals, renewed at each tick), so several instances against one database sweep once.
 * Returns a stop function that waits for a running sweep and gives the lease up.
 *
 * @example
 * const retention = startRetentionSweeper(db, { owner: instanceId, policy: retentionPolicy(config) });
 * // on shutdown:
 * await retention.stop();
 */
export function startRetentionSweeper(
  db: ErasureDb & Pick<Db, 'Lease'>,
  options: RetentionSweeperOptions,
): LeasedJob {
  return startLeasedJob(db, {
    key: RETENTION_SWEEPER_LEASE,
    owner: options.owner,
    intervalMs: options.intervalMs ?? 3_600_000,
    ...(options.onError ? { onError: options.onError } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    async tick(now) {
      const report = await retentionSweep(db, options.policy, now);
      if (Object.values(report).some((n) => n > 0)) options.onSweep?.(report);
    },
  });
}
