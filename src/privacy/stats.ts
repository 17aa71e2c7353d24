import type { Db } from '../db/connection.js';
import { CASE_STATUSES } from '../db/models/index.js';

/** Counts below this are published as "<5", so that nobody can be identified from a small group. */
export const SUPPRESSION_THRESHOLD = 5;

/** What is published instead of a count (or of a figure computed over a group) below the threshold. */
export const SUPPRESSED = '<5';

/** A published count: exact from the threshold up, and zero; "<5" between. */
export type PublicCount = number | typeof SUPPRESSED;

/** A published figure over a group of cases: "<5" when the group is too small, null when empty. */
export type PublicFigure = number | typeof SUPPRESSED | null;

/** The figures of one period (a calendar month in UTC, or the whole window). */
export interface PeriodStats {
  cases: PublicCount;
  byCategory: Record<string, PublicCount>;
  byDepartment: Record<string, PublicCount>;
  byStatus: Record<string, PublicCount>;
  /** Median hours from a case's creation to the first official answer. */
  medianHoursToFirstAnswer: PublicFigure;
  /** Median hours from a case's creation to its resolution. */
  medianHoursToResolution: PublicFigure;
  /** Share (0–100, whole percent) of the resolved cases that were resolved by their SLA due time. */
  resolvedWithinSlaPercent: PublicFigure;
  /** Mean satisfaction rating (1–5, one decimal) of the rated cases. */
  averageSatisfaction: PublicFigure;
  ratings: PublicCount;
}

/** `GET /api/v1/stats`: public figures per month, without any personal data. */
export interface PublicStats {
  generatedAt: string;
  /** First month of the window, "YYYY-MM". */
  from: string;
  /** Last month of the window, "YYYY-MM" (the current month, still running). */
  to: string;
  suppressionThreshold: number;
  months: ({ month: string } & PeriodStats)[];
  total: PeriodStats;
}

/** The only fields of a case the statistics read: no text, no identity. */
interface CaseFacts {
  category: string;
  department: string;
  status: string;
  createdAt: Date;
  firstResponseAt?: Date;
  resolvedAt?: Date;
  slaDueAt: Date;
  rating?: number;
}

const HOUR_MS = 3_600_000;

/** A count as published: suppressed from 1 to threshold − 1. */
export function publicCount(n: number): PublicCount {
  return n > 0 && n < SUPPRESSION_THRESHOLD ? SUPPRESSED : n;
}

function figure(values: number[], compute: (values: number[]) => number): PublicFigure {
  if (values.length === 0) return null;
  if (values.length < SUPPRESSION_THRESHOLD) return SUPPRESSED;
  return compute(values);
}

/** The median (mean of the two middle values for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? 0;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? 0) + upper) / 2;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

function countBy(cases: CaseFacts[], key: (c: CaseFacts) => string, all: readonly string[] = []) {
  const counts = new Map<string, number>(all.map((k) => [k, 0]));
  for (const c of cases) counts.set(key(c), (counts.get(key(c)) ?? 0) + 1);
  return Object.fromEntries(
    [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => [k, publicCount(n)]),
  );
}

/** The figures of one group of cases. */
export function periodStats(cases: CaseFacts[]): PeriodStats {
  const hours = (from: Date, to: Date): number => (to.getTime() - from.getTime()) / HOUR_MS;
  const firstAnswer = cases.flatMap((c) =>
    c.firstResponseAt ? [hours(c.createdAt, c.firstResponseAt)] : [],
  );
  const resolved = cases.filter((c): c is CaseFacts & { resolvedAt: Date } => c.resolvedAt !== undefined);
  const ratings = cases.flatMap((c) => (c.rating !== undefined ? [c.rating] : []));
  return {
    cases: publicCount(cases.length),
    byCategory: countBy(cases, (c) => c.category),
    byDepartment: countBy(cases, (c) => c.department),
    byStatus: countBy(cases, (c) => c.status, CASE_STATUSES),
    medianHoursToFirstAnswer: figure(firstAnswer, (v) => round1(median(v))),
    medianHoursToResolution: figure(
      resolved.map((c) => hours(c.createdAt, c.resolvedAt)),
      (v) => round1(median(v)),
    ),
    resolvedWithinSlaPercent: figure(
      resolved.map((c) => (c.resolvedAt <= c.slaDueAt ? 1 : 0)),
      (v) => Math.round((100 * v.reduce((a, b) => a + b, 0)) / v.length),
    ),
    averageSatisfaction: figure(ratings, (v) => round1(v.reduce((a, b) => a + b, 0) / v.length)),
    ratings: publicCount(ratings.length),
  };
}

const monthKey = (d: Date): string => d.toISOString().slice(0, 7);

/**
 * Computes the public statistics of the cases created in the last `months` calendar months (UTC, the
 * current one included). The database does the filtering and the projection (an aggregation
 * pipeline: `$match` on the creation date, `$project` of the anonymous facts only), so no text or
 * identity ever reaches this code; medians are computed here, over that bounded projection.
 *
 * @example
 * const stats = await computePublicStats(db, { months: 12 });
 * stats.months[0]; // { month: '2025-07', cases: 42, byCategory: { roads: 17, water: '<5', … }, … }
 */
export async function computePublicStats(
  db: Pick<Db, 'Case'>,
  options: { months?: number; now?: Date } = {},
): Promise<PublicStats> {
  const now = options.now ?? new Date();
  const count = Math.max(1, Math.min(options.months ?? 12, 60));
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - (count - 1), 1));
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  const facts = await db.Case.aggregate<CaseFacts>([
    { $match: { createdAt: { $gte: start, $lt: end }, kind: { $ne: 'erasure' } } },
    {
      $project: {
        _id: 0,
        category: 1,
        department: 1,
        status: 1,
        createdAt: 1,
        firstResponseAt: 1,
        resolvedAt: 1,
        slaDueAt: 1,
        rating: 1,
      },
    },
  ]);
  const byMonth = new Map<string, CaseFacts[]>();
  for (let i = 0; i < count; i++) {
    byMonth.set(monthKey(new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + i, 1))), []);
  }
  for (const c of facts) byMonth.get(monthKey(new Date(c.createdAt)))?.push(c);
  return {
    generatedAt: now.toISOString(),
    from: monthKey(start),
    to: monthKey(now),
    suppressionThreshold: SUPPRESSION_THRESHOLD,
    months: [...byMonth].map(([month, cases]) => ({ month, ...periodStats(cases) })),
    total: periodStats(facts),
  };
}
