import { calculateObjectSize } from 'bson';
import { randomInt } from 'node:crypto';
import { CommandError } from './errors.js';
import type { Doc } from './values.js';

/** Keeps a batch under MongoDB's 16 MiB reply document limit, with room for the envelope. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 16 * 1024;
/** MongoDB's default cursor idle timeout. */
const IDLE_MS = 10 * 60 * 1000;

interface OpenCursor {
  ns: string;
  docs: Doc[];
  pos: number;
  lastUsed: number;
}

/** One batch and the id to continue with (0 when the cursor is exhausted). */
export interface Batch {
  docs: Doc[];
  id: number;
}

/**
 * Server-side cursors. A cursor holds the result set computed when it was opened, so later
 * getMore calls return consistent batches even while the collection changes.
 */
export class Cursors {
  private readonly open = new Map<number, OpenCursor>();

  private take(c: OpenCursor, batchSize: number | undefined): Doc[] {
    const max = batchSize === undefined || batchSize <= 0 ? Number.MAX_SAFE_INTEGER : batchSize;
    const out: Doc[] = [];
    let bytes = 0;
    while (c.pos < c.docs.length && out.length < max) {
      const doc = c.docs[c.pos];
      if (!doc) break;
      const size = calculateObjectSize(doc);
      if (out.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
      out.push(doc);
      bytes += size;
      c.pos += 1;
    }
    return out;
  }

  /** Returns the first batch; keeps the rest under a new cursor id unless `singleBatch`. */
  first(ns: string, docs: Doc[], batchSize: number | undefined, singleBatch = false): Batch {
    this.reap();
    const c: OpenCursor = { ns, docs, pos: 0, lastUsed: Date.now() };
    const batch = this.take(c, batchSize ?? 101);
    if (singleBatch || c.pos >= docs.length) return { docs: batch, id: 0 };
    let id = 0;
    while (id === 0 || this.open.has(id)) id = randomInt(1, 2 ** 47);
    this.open.set(id, c);
    return { docs: batch, id };
  }

  /** Serves a getMore. */
  more(id: number, ns: string, batchSize: number | undefined): Batch {
    const c = this.open.get(id);
    if (!c) throw new CommandError('CursorNotFound', `cursor id ${id} not found`);
    if (c.ns !== ns) {
      throw new CommandError(
        'BadValue',
        `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${c.ns}`,
      );
    }
    c.lastUsed = Date.now();
    const docs = this.take(c, batchSize);
    if (c.pos >= c.docs.length) {
      this.open.delete(id);
      return { docs, id: 0 };
    }
    return { docs, id };
  }

  /** Kills cursors; returns which existed. */
  kill(ids: number[]): { killed: number[]; notFound: number[] } {
    const killed: number[] = [];
    const notFound: number[] = [];
    for (const id of ids) (this.open.delete(id) ? killed : notFound).push(id);
    return { killed, notFound };
  }

  /** Drops cursors idle for longer than MongoDB's default timeout. */
  reap(now = Date.now()): void {
    for (const [id, c] of this.open) if (now - c.lastUsed > IDLE_MS) this.open.delete(id);
  }

  /** How many cursors are open. */
  get size(): number {
    return this.open.size;
  }
}
