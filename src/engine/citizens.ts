import { Types } from 'mongoose';
import { Batcher, driverCollection, eachOf, type Outcome } from '../db/batch.js';
import type { Db } from '../db/connection.js';
import type { CitizenRecord } from '../db/models/citizen.js';
import { isDuplicateKeyError } from '../db/models/sequence.js';
import type { Lang } from '../nlu/catalog.js';
import type { Address } from './activity.js';

/** A citizen's message, as the citizen record notes it. */
export interface Sighting {
  address: Address;
  /** When the platform says the message was sent (the 24-hour reply windows count from it). */
  at: Date;
  now: Date;
}

/**
 * Keeps the citizen record of each chat up to date at every message: created on the first, then its
 * address, last-seen times and language. Under load many turns start together; their records are
 * written with one bulk upsert while their ids are read with one query per channel, at the same time,
 * instead of a round trip per message (or two in a row).
 *
 * @example
 * const citizenId = await citizens.seen({ address, at: activity.at, now });
 * await citizens.speaks(citizenId, 'fr'); // when the turn settled on another language than before
 */
export class Citizens {
  private readonly batch = new Batcher<Sighting, Types.ObjectId>((sightings) => this.write(sightings));

  constructor(private readonly db: Db) {}

  /** Records the message on the citizen (creating them on their first) and resolves with their id. */
  seen(sighting: Sighting): Promise<Types.ObjectId> {
    return this.batch.add(sighting);
  }

  /** Records the language the citizen is answered in (notifications outside a turn use it). */
  async speaks(id: Types.ObjectId, lang: Lang): Promise<void> {
    await this.languages.add({ id, lang });
  }

  /** Languages recorded in the same tick (turns of many conversations ending at once), with one command. */
  private readonly languages = new Batcher<{ id: Types.ObjectId; lang: Lang }, true>((changes) =>
    eachOf(changes.length, () =>
      driverCollection<CitizenRecord>(this.db.Citizen).bulkWrite(
        changes.map(({ id, lang }) => ({ updateOne: { filter: { _id: id }, update: { $set: { lang } } } })),
        { ordered: false },
      ),
    ),
  );

  private filter(s: Sighting): { channel: string; channelUserId: string } {
    return { channel: s.address.channel, channelUserId: s.address.userId };
  }

  /** The upsert, with the timestamps mongoose would add (the batch goes to the driver directly). */
  private update(s: Sighting): Record<string, Record<string, unknown>> {
    return {
      // The platform's display name is not kept: nothing needs it, and anonymous reporters must not be named.
      $set: { address: s.address, lastSeenAt: s.now, lastInboundAt: s.at, updatedAt: s.now },
      $setOnInsert: { contactConsent: false, createdAt: s.now },
      $unset: { erasedAt: 1 },
    };
  }

  private async write(sightings: Sighting[]): Promise<Outcome<Types.ObjectId>[]> {
    const idKey = (channel: string, userId: string): string => `${channel}\u0000${userId}`;
    // The ids are read while the upsert runs: a citizen who existed is found either way, and one the
    // upsert creates is in its result. Anyone left over (the read ran first, and the upsert failed
    // or was not reported) gets a single upsert of their own.
    let upserted: Partial<Record<number, unknown>> = {};
    const [written, found] = await Promise.all([
      eachOf(sightings.length, async () => {
        const result = await this.db.Citizen.collection.bulkWrite(
          sightings.map((s) => ({
            updateOne: { filter: this.filter(s), update: this.update(s), upsert: true },
          })),
          { ordered: false },
        );
        upserted = result.upsertedIds;
      }),
      Promise.all(
        [...new Set(sightings.map((s) => s.address.channel))].map(async (channel) => {
          const userIds = sightings.filter((s) => s.address.channel === channel).map((s) => s.address.userId);
          const docs = await driverCollection<CitizenRecord>(this.db.Citizen)
            .find({ channel, channelUserId: { $in: userIds } }, { projection: { _id: 1, channelUserId: 1 } })
            .toArray();
          return docs.map((doc) => [idKey(channel, doc.channelUserId), doc._id] as const);
        }),
      ),
    ]);
    const ids = new Map<string, Types.ObjectId>(found.flat());
    sightings.forEach((s, i) => {
      const id = upserted[i];
      if (id instanceof Types.ObjectId) ids.set(idKey(s.address.channel, s.address.userId), id);
    });
    return Promise.all(
      sightings.map(async (s, i): Promise<Outcome<Types.ObjectId>> => {
        const outcome = written[i];
        if (outcome?.ok === false) {
          // Two instances creating the same citizen at once: one insert loses; its update then lands.
          if (!isDuplicateKeyError(outcome.error)) return outcome;
          return this.one(s);
        }
        const id = ids.get(idKey(s.address.channel, s.address.userId));
        return id ? { ok: true, value: id } : this.one(s);
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
