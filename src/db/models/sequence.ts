import { Schema } from 'mongoose';
import type { SequenceModel } from './index.js';

/** A named counter (e.g. one per conversation for the outbox's `seq`, one for the audit chain). */
export interface Sequence {
  _id: string;
  value: number;
}

export const sequenceSchema = new Schema<Sequence>(
  {
    _id: { type: String, required: true },
    value: { type: Number, required: true, default: 0 },
  },
  { collection: 'sequences', versionKey: false },
);

/**
 * Atomically draws the next number of counter `name` (1, 2, 3…), across connections and processes.
 *
 * @example
 * ```ts
 * const seq = await nextSequence(db.Sequence, `outbox:${conversationKey}`);
 * ```
 */
export async function nextSequence(model: SequenceModel, name: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      const doc = await model
        .findOneAndUpdate({ _id: name }, { $inc: { value: 1 } }, { upsert: true, returnDocument: 'after' })
        .lean<Sequence>();
      if (doc === null) throw new Error(`sequence ${name}: upsert returned no document`);
      return doc.value;
    } catch (err) {
      // Two first draws of a new counter can both try to insert it; the loser retries and increments.
      if (attempt < 3 && isDuplicateKeyError(err)) continue;
      throw err;
    }
  }
}

/** True for MongoDB's duplicate-key error (E11000), however the driver or mongoose wrapped it. */
export function isDuplicateKeyError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 11000;
}
