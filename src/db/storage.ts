import { randomUUID } from 'node:crypto';
import type { Storage, StoreItems } from 'botbuilder';
import type { mongo } from 'mongoose';
import { Batcher, driverCollection, eachOf } from './batch.js';
import { isDuplicateKeyError } from './models/sequence.js';
import type { StateItemModel } from './models/index.js';
import type { StateItem } from './models/state.js';
import { withFields } from '../objects.js';

/** Thrown by {@link MongoStorage.write} when an item changed since it was read (stale `eTag`). */
export class ETagConflictError extends Error {
  readonly code = 'STATE_ETAG_CONFLICT';
  readonly key: string;

  constructor(key: string) {
    super(
      `Storage: error writing "${key}" due to eTag conflict: it changed since it was read. ` +
        'Read it again and re-apply the change.',
    );
    this.name = 'ETagConflictError';
    this.key = key;
  }
}

/**
 * botbuilder's `Storage` (conversation and user state) over the `state` collection, with the eTag
 * optimistic concurrency botbuilder expects:
 * - `read` returns each found item with the `eTag` of its stored version;
 * - `write` of an item without `eTag`, or with `eTag: '*'`, overwrites (or creates) it;
 * - `write` with any other `eTag` succeeds only if the stored version still has it; otherwise it throws
 *   {@link ETagConflictError} — also when the item was deleted meanwhile, so that a turn that read
 *   state before a privacy erasure cannot write the erased data back;
 * - `delete` removes the items (missing keys are ignored).
 *
 * Each key's write is one atomic MongoDB operation, so concurrent writers across processes are safe.
 * Items are stored as JSON (see `models/state.ts`): what is read back is what JSON round-trips (Dates
 * become ISO strings), exactly as with botbuilder's MemoryStorage.
 *
 * With `keepRecent`, each key also has a list of its most recent entries (a conversation's lines),
 * kept beside the item rather than in it: {@link write} appends to it in the same atomic update,
 * keeping the last `keepRecent`, {@link read} leaves it out, and {@link recent} reads it. So a turn
 * neither parses nor re-serialises the list, however long the items in it.
 *
 * @example
 * ```ts
 * const conversationState = new ConversationState(new MongoStorage(db.StateItem));
 * ```
 */
export class MongoStorage implements Storage {
  /**
   * With `guardOverwrites`, the eTag each key had when this storage last read or wrote it (null: it
   * did not exist), so that a `*` write is checked against it. Bounded: the least recently used
   * keys are forgotten, and their `*` writes overwrite as botbuilder means.
   */
  private readonly seen: Map<string, string | null> | undefined;
  /** How many recent entries each key keeps (0: no list). */
  private readonly keepRecent: number;

  /** Reads made in the same tick (turns of many conversations at once) are one query. */
  private readonly reads = new Batcher<string[], StoreItems>(async (requests) => {
    const docs = await driverCollection<StateItem>(this.model)
      .find({ _id: { $in: [...new Set(requests.flat())] } }, { projection: { recent: 0 } })
      .toArray();
    const found = new Map(docs.map((doc) => [doc._id, doc]));
    return requests.map((keys) => {
      const items: StoreItems = {};
      for (const key of keys) {
        const doc = found.get(key);
        this.remember(key, doc?.eTag ?? null);
        if (!doc) continue;
        const parsed: unknown = JSON.parse(doc.json);
        items[key] = withFields(isPlainObject(parsed) ? parsed : {}, { eTag: doc.eTag });
      }
      return { ok: true, value: items };
    });
  });

  /**
   * eTag-checked writes of the same tick (turns of many conversations ending at once) in one command.
   * When fewer matched than were sent, each item's stored eTag tells whether its write landed (every
   * write sets a fresh random eTag).
   */
  private readonly checkedWrites = new Batcher<
    { key: string; expected: string; next: StateVersion },
    boolean
  >(async (writes) => {
    const result = await driverCollection<StateItem>(this.model).bulkWrite(
      writes.map(({ key, expected, next }) => ({
        updateOne: { filter: { _id: key, eTag: expected }, update: this.update(next) },
      })),
      { ordered: false },
    );
    if (result.matchedCount === writes.length) return writes.map(() => ({ ok: true, value: true }));
    const docs = await this.model.find({ _id: { $in: writes.map((w) => w.key) } }, { eTag: 1 }).lean();
    const stored = new Map(docs.map((doc) => [doc._id, doc.eTag]));
    return writes.map(({ key, next }) => ({ ok: true, value: stored.get(key) === next.eTag }));
  });

  /**
   * Unconditional writes of the same tick in one bulk upsert: botbuilder's ConversationState saves
   * with eTag '*', so this is the write of every turn.
   */
  private readonly overwrites = new Batcher<{ key: string; next: StateVersion }, true>((writes) =>
    eachOf(writes.length, () =>
      driverCollection<StateItem>(this.model).bulkWrite(
        writes.map(({ key, next }) => ({
          updateOne: { filter: { _id: key }, update: this.update(next), upsert: true },
        })),
        { ordered: false },
      ),
    ),
  );

  /**
   * `guardOverwrites`: botbuilder's ConversationState saves every turn with eTag `*` (overwrite),
   * which would let a turn that read the state before a privacy erasure write it back afterwards.
   * With this option a `*` write of a key this storage read is checked against the eTag it read
   * (or, for a key that did not exist, must create it), and throws {@link ETagConflictError} otherwise.
   * `keepRecent`: how many recent entries each key keeps beside its item (none by default).
   */
  constructor(
    private readonly model: StateItemModel,
    opts: { guardOverwrites?: boolean; keepRecent?: number } = {},
  ) {
    this.seen = opts.guardOverwrites ? new Map() : undefined;
    this.keepRecent = opts.keepRecent ?? 0;
  }

  async read(keys: string[]): Promise<StoreItems> {
    if (keys.length === 0) return {};
    return this.reads.add(keys);
  }

  /**
   * Writes the items; `recent` holds, per key, entries to append to its list of recent ones (with
   * `keepRecent`), in the same update.
   */
  async write(changes: StoreItems, recent: Partial<Record<string, readonly object[]>> = {}): Promise<void> {
    // Keys are written in turn so that a conflict leaves the earlier keys written, as MemoryStorage does.
    for (const [key, value] of Object.entries(changes)) {
      if (!isPlainObject(value)) throw new TypeError(`Storage: item "${key}" must be an object.`);
      const { eTag: expected, ...rest } = value;
      const appended = this.keepRecent > 0 ? (recent[key] ?? []) : [];
      const next: StateVersion = {
        eTag: randomUUID(),
        json: JSON.stringify(rest),
        updatedAt: new Date(),
        ...(appended.length > 0 ? { appended } : {}),
      };
      const explicit = typeof expected === 'string' && expected !== '*' && expected !== '';
      const known = explicit ? expected : this.seen?.get(key);
      if (typeof known === 'string') {
        if (!(await this.checkedWrites.add({ key, expected: known, next }))) throw new ETagConflictError(key);
      } else if (known === null) {
        await this.create(key, next);
      } else {
        await this.overwrite(key, next);
      }
      this.remember(key, next.eTag);
    }
  }

  /** The key's recent entries, oldest first (none when it has no item). */
  async recent(key: string): Promise<object[]> {
    const doc = await driverCollection<StateItem>(this.model).findOne(
      { _id: key },
      { projection: { recent: 1 } },
    );
    return doc?.recent ?? [];
  }

  async delete(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.model.deleteMany({ _id: { $in: keys } });
    for (const key of keys) this.seen?.delete(key);
  }

  private remember(key: string, eTag: string | null): void {
    if (!this.seen) return;
    this.seen.delete(key);
    this.seen.set(key, eTag);
    if (this.seen.size > REMEMBERED_KEYS) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
  }

  /** Writes a key that did not exist when read: someone creating it meanwhile is a conflict. */
  private async create(key: string, next: StateVersion): Promise<void> {
    try {
      const { appended, ...item } = next;
      await driverCollection<StateItem>(this.model).insertOne({
        _id: key,
        ...item,
        ...(appended ? { recent: appended.slice(-this.keepRecent) } : {}),
      });
    } catch (err) {
      if (isDuplicateKeyError(err)) throw new ETagConflictError(key);
      throw err;
    }
  }

  private async overwrite(key: string, next: StateVersion): Promise<void> {
    try {
      await this.overwrites.add({ key, next });
    } catch (err) {
      // Two first writes of the same key can both try to insert it; the loser's write then lands
      // as an update, which is what "last write wins" means.
      if (!isDuplicateKeyError(err)) throw err;
      await driverCollection<StateItem>(this.model).updateOne({ _id: key }, this.update(next));
    }
  }

  /** The update that writes `next`, appending its entries to the recent ones in the same operation. */
  private update({ appended, ...item }: StateVersion): mongo.UpdateFilter<StateItem> {
    return {
      $set: item,
      ...(appended ? { $push: { recent: { $each: appended, $slice: -this.keepRecent } } } : {}),
    };
  }
}

/** Keys whose last seen eTag a guarding storage keeps (a few hundred bytes each). */
const REMEMBERED_KEYS = 100_000;

/** What one write stores for a key, and the entries it appends to the key's recent ones. */
interface StateVersion {
  eTag: string;
  json: string;
  updatedAt: Date;
  appended?: readonly object[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
