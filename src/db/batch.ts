import { mongo, type Connection, type Types } from 'mongoose';
import type { LeaseRecord } from './models/common.js';

/** One item's result in a batch: its value, or the error that item alone met. */
export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Gathers calls made close together into one database operation. Under load many conversations
 * write the same kind of thing at once (a webhook's message stored, a reply marked sent); each round
 * trip costs the same whatever it carries, so one command for all of them is most of the saving.
 * Every caller still awaits its own item: nothing is acknowledged before it is written.
 *
 * A batch gathers for `gatherMs` (a timer) rather than until the current I/O callbacks are done
 * (`setImmediate`): with one batch per event-loop turn, the faster the loop turns the smaller the
 * batches and the more commands (the app's main cost under load) it sends, and the batches of all
 * the batchers then go in the same turn. At 520 messages/s gathering 1 ms lowered both p50 and
 * p99 by a fifth (BENCHMARKS.md, Load); a lone call waits that millisecond more.
 *
 * @example
 * const marks = new Batcher((ids: string[]) => markAll(ids)); // resolves one Outcome per id
 * await marks.add(id);
 */
export class Batcher<I, R> {
  private pending: { item: I; resolve: (value: R) => void; reject: (err: unknown) => void }[] = [];
  private scheduled = false;

  constructor(
    private readonly run: (items: I[]) => Promise<Outcome<R>[]>,
    private readonly maxItems = 500,
    private readonly gatherMs = 1,
  ) {}

  add(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxItems) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        const go = (): void => {
          this.scheduled = false;
          this.flush();
        };
        setTimeout(go, this.gatherMs);
      }
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let written: Promise<Outcome<R>[]>;
    try {
      written = this.run(batch.map((b) => b.item));
    } catch (err) {
      // A synchronous throw would otherwise escape into setImmediate and stop the process.
      written = Promise.reject(err);
    }
    written.then(
      (outcomes) =>
        batch.forEach((b, i) => {
          const outcome = outcomes[i];
          if (outcome === undefined) b.reject(new Error('batch returned fewer outcomes than items'));
          else if (outcome.ok) b.resolve(outcome.value);
          else b.reject(outcome.error);
        }),
      (err: unknown) => batch.forEach((b) => b.reject(err)),
    );
  }
}

/**
 * Runs a bulk write of independent operations (`ordered: false`) and tells each operation's fate:
 * the ones refused (a duplicate key, a document failing the schema) get their own error, the others
 * succeed. Mongoose reports a bulk write that met validation errors with a `results` array, one entry
 * per operation (null when it went through); the driver alone reports `writeErrors` by index.
 */
export async function eachOf(count: number, write: () => Promise<unknown>): Promise<Outcome<true>[]> {
  const all = (): Outcome<true>[] => Array.from({ length: count }, () => ({ ok: true, value: true }));
  try {
    await write();
    return all();
  } catch (err) {
    const results: unknown =
      typeof err === 'object' && err !== null && 'results' in err ? err.results : undefined;
    if (Array.isArray(results) && results.length === count) {
      return results.map((r: unknown): Outcome<true> =>
        r === null || r === undefined ? { ok: true, value: true } : { ok: false, error: r },
      );
    }
    if (!(err instanceof mongo.MongoBulkWriteError)) throw err;
    const refused = [err.writeErrors].flat();
    if (refused.length === 0) throw err;
    const outcomes = all();
    for (const writeError of refused) {
      outcomes[writeError.index] = {
        ok: false,
        error: Object.assign(new Error(writeError.errmsg ?? 'write refused'), { code: writeError.code }),
      };
    }
    return outcomes;
  }
}

/**
 * The driver's collection behind a mongoose model, typed by the model's documents (`T`), for hot bulk
 * writes that set every field themselves: mongoose's casting of each operation costs more than the
 * write under load, and its own collection type assumes ObjectId ids.
 */
export function driverCollection<T extends mongo.Document>(model: {
  db: Connection;
  collection: { collectionName: string };
}): mongo.Collection<T> {
  const native = model.db.db;
  if (!native) throw new Error(`${model.collection.collectionName}: the database connection is not open`);
  return native.collection<T>(model.collection.collectionName);
}

/**
 * Leases documents `ids` to `lease.owner` with one bulk update (`write`, each operation conditional
 * on its document being free to take) and resolves with the ids (as strings) it got: all of them when
 * every operation matched; otherwise the documents are read back (`readLeases`), and those carrying
 * exactly this lease (owner and expiry) are the ones taken.
 */
export async function leasedEach(
  ids: readonly Types.ObjectId[],
  lease: LeaseRecord,
  write: () => Promise<{ matchedCount: number }>,
  readLeases: () => Promise<{ _id: Types.ObjectId; lease?: LeaseRecord | null | undefined }[]>,
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const result = await write();
  if (result.matchedCount === ids.length) return new Set(ids.map(String));
  const docs = await readLeases();
  return new Set(
    docs
      .filter((d) => d.lease?.owner === lease.owner && d.lease.until.getTime() === lease.until.getTime())
      .map((d) => String(d._id)),
  );
}
