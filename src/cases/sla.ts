import type { Db } from '../db/connection.js';
import type { CaseStatus } from '../db/models/index.js';
import { startLeasedJob, type LeasedJob } from './lease.js';

/** How much an overdue case's priority rises, so it is claimed before cases still within their SLA. */
export const OVERDUE_PRIORITY_BUMP = 10;

/** The lease the sweeper holds while it runs, so only one app instance sweeps. */
export const SLA_SWEEPER_LEASE = 'sla-sweeper';

// Waiting on the citizen pauses the SLA: the clock is the government's, not the citizen's.
const SWEPT_STATUSES = ['open', 'assigned'] as const satisfies readonly CaseStatus[];

/** A case the sweep just marked overdue: what a supervisor is told. */
export interface OverdueCase {
  reference: string;
  department: string;
  status: CaseStatus;
  assignee?: string;
  slaDueAt: Date;
  /** The priority after the bump. */
  priority: number;
  /** Ids of the active supervisors (and admins) of the case's department, to notify. */
  supervisorIds: string[];
}

/**
 * Marks live cases whose SLA due time has passed as overdue and raises their priority, and returns
 * them (with whom to notify). Each case is marked by its own conditional update, so a case is reported
 * once even if two sweeps overlap; the lease ({@link startSlaSweeper}) keeps them from overlapping at all.
 *
 * @example
 * ```ts
 * for (const c of await slaSweep(db, new Date())) notifySupervisors(c.supervisorIds, c.reference);
 * ```
 */
export async function slaSweep(
  db: Pick<Db, 'Case' | 'Official'>,
  now: Date,
  options: { priorityBump?: number; limit?: number } = {},
): Promise<OverdueCase[]> {
  const bump = options.priorityBump ?? OVERDUE_PRIORITY_BUMP;
  const due = await db.Case.find({ overdue: false, status: { $in: SWEPT_STATUSES }, slaDueAt: { $lte: now } })
    .select({ _id: 1 })
    .sort({ slaDueAt: 1 })
    .limit(options.limit ?? 1000)
    .lean();
  const marked: Omit<OverdueCase, 'supervisorIds'>[] = [];
  for (const { _id } of due) {
    const updated = await db.Case.findOneAndUpdate(
      { _id, overdue: false, status: { $in: SWEPT_STATUSES } },
      { $set: { overdue: true }, $inc: { priority: bump } },
      { returnDocument: 'after' },
    ).lean();
    if (updated === null) continue;
    marked.push({
      reference: updated.reference,
      department: updated.department,
      status: updated.status,
      slaDueAt: updated.slaDueAt,
      priority: updated.priority,
      ...(updated.assignee !== undefined ? { assignee: updated.assignee } : {}),
    });
  }
  if (marked.length === 0) return [];
  const departments = [...new Set(marked.map((c) => c.department))];
  const supervisors = await db.Official.find({
    active: true,
    role: { $in: ['supervisor', 'admin'] },
    departments: { $in: departments },
  })
    .select({ _id: 1, departments: 1 })
    .lean();
  return marked.map((c) => ({
    ...c,
    supervisorIds: supervisors.filter((s) => s.departments.includes(c.department)).map((s) => String(s._id)),
  }));
}

/** Options of {@link startSlaSweeper}. */
export interface SlaSweeperOptions {
  /** This app instance's id (unique per process, e.g. hostname + pid + random). */
  owner: string;
  /** Time between sweeps (default one minute). */
  intervalMs?: number;
  /** Called with the cases each sweep marked overdue. */
  onOverdue: (cases: OverdueCase[]) => void | Promise<void>;
  /** Called when a sweep fails; the sweeper keeps going. */
  onError?: (err: unknown) => void;
}

/**
 * Runs {@link slaSweep} every `intervalMs`, but only while this instance holds the sweeper lease
 * (taken for three intervals and renewed at each tick), so that several app instances against one
 * database sweep once. Returns a stop function that also gives the lease up.
 */
export function startSlaSweeper(
  db: Pick<Db, 'Case' | 'Official' | 'Lease'>,
  options: SlaSweeperOptions,
): LeasedJob {
  let stopped = false;
  const job = startLeasedJob(db, {
    key: SLA_SWEEPER_LEASE,
    owner: options.owner,
    intervalMs: options.intervalMs ?? 60_000,
    ...(options.onError ? { onError: options.onError } : {}),
    async tick(now) {
      const overdue = await slaSweep(db, now);
      if (overdue.length > 0 && !stopped) await options.onOverdue(overdue);
    },
  });
  return {
    async stop() {
      stopped = true;
      await job.stop();
    },
  };
}
