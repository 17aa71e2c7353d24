import type { Types } from 'mongoose';
import { Batcher, eachOf, type Outcome } from '../db/batch.js';
import type { Db } from '../db/connection.js';
import { isDuplicateKeyError } from '../db/models/sequence.js';
import type { Lang } from '../nlu/catalog.js';
import type { Address } from './activity.js';

/** A citizen's message, as the citizen record notes it. */
export interface Sighting {
  address: Address;
  /** When the platform says the message was sent (the 24-hour reply windows count from it). */
  at: Date;
  now: Date;
  /** The language this turn answers in. */
  lang: Lang;
}

/**
 * Keeps the citizen record of each chat up to date at every message: created on the first, then its
 * address, last-seen times and language. Under load many turns start together; their records are
 * written with one bulk upsert and their ids read with one query per channel, instead of a round trip
 * per message.
 *
 * @example
 * const citizenId = await citizens.seen({ address, at: activity.at, now, lang: 'fr' });
 */
export class Citizens {
  private readonly batch = new Batcher<Sighting, Types.ObjectId>((sightings) => this.write(sightings));

  constructor(private readonly db: Db) {}

  /** Records the message on the citizen (creating them on their first) and resolves with their id. */
  seen(sighting: Sighting): Promise<Types.ObjectId> {
    return this.batch.add(sighting);
  }

  private filter(s: Sighting): { channel: string; channelUserId: string } {
    return { channel: s.address.channel, channelUserId: s.address.userId };
  }

  /** The upsert, with the timestamps mongoose would add (the batch goes to the driver directly). */
  private update(s: Sighting): Record<string, Record<string, unknown>> {
    return {
      // The platform's display name is not kept: nothing needs it, and anonymous reporters must not be named.
      $set: { address: s.address, lastSeenAt: s.now, lastInboundAt: s.at, lang: s.lang, updatedAt: s.now },
      $setOnInsert: { contactConsent: false, createdAt: s.now },
      $unset: { erasedAt: 1 },
    };
  }

  private async write(sightings: Sighting[]): Promise<Outcome<Types.ObjectId>[]> {
    const written = await eachOf(sightings.length, () =>
      this.db.Citizen.collection.bulkWrite(
        sightings.map((s) => ({
          updateOne: { filter: this.filter(s), update: this.update(s), upsert: true },
        })),
        { ordered: false },
      ),
    );
    const ids = new Map<string, Types.ObjectId>();
    const idKey = (channel: string, userId: string): string => `${channel}\u0000${userId}`;
    for (const channel of new Set(sightings.map((s) => s.address.channel))) {
      const userIds = sightings.filter((s) => s.address.channel === channel).map((s) => s.address.userId);
      const docs = await this.db.Citizen.find(
        { channel, channelUserId: { $in: userIds } },
        { _id: 1, channelUserId: 1 },
      ).lean();
      for (const doc of docs) ids.set(idKey(channel, doc.channelUserId), doc._id);
    }
    return Promise.all(
      sightings.map(async (s, i): Promise<Outcome<Types.ObjectId>> => {
        const outcome = written[i];
        if (outcome?.ok === false) {
          // Two instances creating the same citizen at once: one insert loses; its update then lands.
          if (!isDuplicateKeyError(outcome.error)) return outcome;
          return this.one(s);
        }
        const id = ids.get(idKey(s.address.channel, s.address.userId));
        return id
          ? { ok: true, value: id }
          : { ok: false, error: new Error('citizen upsert left no record') };
      }),
    );
  }

  private async one(s: Sighting): Promise<Outcome<Types.ObjectId>> {
    const doc = await this.db.Citizen.findOneAndUpdate(this.filter(s), this.update(s), {
      upsert: true,
      returnDocument: 'after',
      timestamps: false, // set in the update itself
    }).lean();
    return doc
      ? { ok: true, value: doc._id }
      : { ok: false, error: new Error('citizen upsert left no record') };
  }
}
