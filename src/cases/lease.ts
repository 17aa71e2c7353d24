import type { Models } from '../db/models/index.js';
import { eachOf } from '../db/batch.js';
import { isDuplicateKeyError } from '../db/models/sequence.js';

/**
 * Takes (or renews) the named lease `key` for `owner` for `ttlMs`, and says whether `owner` now holds
 * it. Only one owner holds an unexpired lease: two app instances running the same singleton job (the
 * SLA sweeper, an outbox dispatcher…) each call this before every run and only the holder runs. The
 * holder renews by calling again before `until`; a crashed holder's lease expires and is taken over.
 *
 * One atomic operation: the update matches only when the lease is free, expired or already ours;
 * otherwise the upsert's insert collides with the holder's document on the unique key (E11000), which
 * means "held by someone else".
 *
 * Leases compare wall-clock times from different machines: keep `ttlMs` well above their clock skew.
 *
 * @example
 * ```ts
 * if (await acquireLease(db, 'sla-sweeper', instanceId, 60_000)) await slaSweep(db, new Date());
 * ```
 */
export async function acquireLease(
  db: Pick<Models, 'Lease'>,
  key: string,
  owner: string,
  ttlMs: number,
  now: Date = new Date(),
): Promise<boolean> {
  try {
    const lease = await db.Lease.findOneAndUpdate(
      { key, $or: [{ owner }, { until: { $lte: now } }] },
      { $set: { owner, until: new Date(now.getTime() + ttlMs) } },
      { upsert: true, returnDocument: 'after' },
    ).lean();
    return lease !== null && lease.owner === owner;
  } catch (err) {
    if (isDuplicateKeyError(err)) return false;
    throw err;
  }
}

/**
 * {@link acquireLease} for many keys in one command: each key's upsert either takes (or renews) the
 * lease, or collides with another holder's document (E11000), so no read is needed. Resolves, per
 * key in order, whether `owner` now holds it.
 */
export async function acquireLeases(
  db: Pick<Models, 'Lease'>,
  keys: readonly string[],
  owner: string,
  ttlMs: number,
  now: Date = new Date(),
): Promise<boolean[]> {
  if (keys.length === 0) return [];
  const until = new Date(now.getTime() + ttlMs);
  const outcomes = await eachOf(keys.length, () =>
    db.Lease.collection.bulkWrite(
      keys.map((key) => ({
        updateOne: {
          filter: { key, $or: [{ owner }, { until: { $lte: now } }] },
          update: { $set: { owner, until } },
          upsert: true,
        },
      })),
      { ordered: false },
    ),
  );
  return outcomes.map((outcome) => {
    if (outcome.ok) return true;
    if (isDuplicateKeyError(outcome.error)) return false;
    throw outcome.error;
  });
}

/**
 * Gives the lease up if `owner` holds it (on shutdown, so another instance takes over at once instead
 * of waiting for expiry). Returns whether it was held.
 */
export async function releaseLease(db: Pick<Models, 'Lease'>, key: string, owner: string): Promise<boolean> {
  const result = await db.Lease.deleteOne({ key, owner });
  return result.deletedCount === 1;
}

/** A singleton job started by {@link startLeasedJob}. */
export interface LeasedJob {
  /** Waits for a running tick, stops the timer and gives the lease up. */
  stop(): Promise<void>;
}

/**
 * Runs `tick` now and every `intervalMs`, but only while this instance holds lease `key` (taken for three
 * intervals and renewed at each tick), so several app instances against one database run the job once.
 * Ticks never overlap: a slow one delays the next instead of running beside it. A failing tick goes to
 * `onError` and the job keeps going.
 *
 * @example
 * const job = startLeasedJob(db, { key: 'sla-sweeper', owner, intervalMs: 60_000, tick: (now) => slaSweep(db, now) });
 * await job.stop();
 */
export function startLeasedJob(
  db: Pick<Models, 'Lease'>,
  opts: {
    key: string;
    owner: string;
    intervalMs: number;
    tick: (now: Date) => Promise<void>;
    onError?: (err: unknown) => void;
    clock?: () => Date;
  },
): LeasedJob {
  const clock = opts.clock ?? (() => new Date());
  let running: Promise<void> = Promise.resolve();
  const run = async (): Promise<void> => {
    try {
      const now = clock();
      if (await acquireLease(db, opts.key, opts.owner, opts.intervalMs * 3, now)) await opts.tick(now);
    } catch (err) {
      opts.onError?.(err);
    }
  };
  const timer = setInterval(() => {
    running = running.then(run);
  }, opts.intervalMs);
  timer.unref();
  running = running.then(run);
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await releaseLease(db, opts.key, opts.owner);
    },
  };
}
