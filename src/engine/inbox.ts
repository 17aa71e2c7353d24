import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import type { Logger } from 'pino';
import { acquireLeases } from '../cases/lease.js';
import { Batcher, driverCollection, eachOf, leasedEach } from '../db/batch.js';
import type { Db } from '../db/connection.js';
import type { InboundMessage, InboundMessageRecord } from '../db/models/inbound.js';
import { isDuplicateKeyError } from '../db/models/sequence.js';
import { activitySchema, conversationKey, type Activity, type Address } from './activity.js';
import { TokenBuckets, type RateLimitOptions } from './rate-limit.js';
import { withFields } from '../objects.js';

export interface InboxOptions {
  /** Attempts at a turn before the message is left as failed (kept, visible) and the citizen told. */
  maxAttempts?: number;
  retryDelayMs?: number;
  /** How long a claimed message, and a conversation being worked on, stay leased to this instance. */
  leaseMs?: number;
  /** How often unfinished messages (another instance's, a crashed one's) are looked for. */
  pollMs?: number;
  /** A received message this old with no local work on its conversation is picked up by the poller. */
  staleMs?: number;
  /**
   * Pace per conversation, so a flood from one chat cannot starve the others: past the burst its
   * messages wait (stored) and are processed at this rate. `false` turns pacing off.
   */
  rateLimit?: RateLimitOptions | false;
}

/**
 * What the inbox runs for each accepted message. `finalFailure` lets it apologise when giving up;
 * `firstRun` says no earlier attempt ever started (nothing of this turn can be stored yet).
 */
export type TurnHandler = (
  activity: Activity,
  inboxId: string,
  attempt: { finalFailure: boolean; firstRun: boolean },
) => Promise<void>;

/** What {@link Inbox.accept} stores. */
type NewInbound = Omit<InboundMessage, 'error' | 'expireAt'> & { _id: Types.ObjectId };

/** What the inbound model requires of a message (checked before the insert, which skips mongoose). */
const storableSchema = activitySchema.pick({ address: true, platformMessageId: true });

/**
 * A message accepted for a conversation nobody here was working on: it is stored already claimed
 * by this instance, while the conversation's lease is taken and its older unfinished messages are
 * looked for, all in the same round trip. Its turn then starts without a claim of its own.
 */
interface Head {
  /** The message as it was before the claim (never tried). */
  doc: InboundMessageRecord;
  stored: Promise<boolean>;
  held: Promise<boolean>;
  older: Promise<boolean>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every inbound message is persisted (unique on channel + platform message id) before any work, then
 * processed one at a time per conversation, so a duplicate delivery is a no-op, the citizen's messages
 * are handled in the order they arrived, and a message accepted before a crash is processed after the restart.
 *
 * Several instances may share one database: a turn runs only under the conversation's lease in
 * MongoDB (`inbox:<conversation>`), and whoever holds it works through the conversation's unfinished
 * messages oldest first, whichever instance accepted them. The in-process chain only saves this
 * instance from racing itself; a poller picks up messages nobody is working on (an instance died, or
 * lost the race for the lease just as the holder finished).
 */
export class Inbox {
  private readonly owner = randomUUID();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly opts: Required<InboxOptions>;
  private readonly limiter: TokenBuckets | undefined;
  /** Conversations paced by the limiter, with the timer that resumes them. */
  private readonly paced = new Map<
    string,
    { timer: NodeJS.Timeout; done: Promise<void>; wake: () => void }
  >();
  /** Conversations with a drain waiting in their chain (one is enough: it runs until nothing is left). */
  private readonly queued = new Set<string>();
  /** Messages this instance accepted and has not seen processed, per conversation. */
  private readonly mine = new Map<string, Set<string>>();
  private poller: NodeJS.Timeout | undefined;
  /** The sweep running now, if any: {@link idle} waits for it, so a shutdown does not cut it off. */
  private polling: Promise<void> | undefined;
  /** Messages accepted in the same tick (concurrent webhooks) are stored with one command. */
  private readonly stored = new Batcher<NewInbound, true>((docs) =>
    eachOf(docs.length, () =>
      // Unordered: a duplicate fails alone. Written as they are (every field set by `accept`, which
      // also refuses what the schema would): mongoose's casting was the costliest part under load.
      driverCollection<NewInbound>(this.db.InboundMessage).insertMany(docs, {
        ordered: false,
        ignoreUndefined: true,
      }),
    ),
  );
  /** Conversation leases taken in the same tick are taken with one command. */
  private readonly leases = new Batcher<string, boolean>(async (keys) =>
    (await acquireLeases(this.db, keys, this.owner, this.opts.leaseMs)).map((held) => ({
      ok: true,
      value: held,
    })),
  );
  /** Conversation leases given up in the same tick go with one command. */
  private readonly released = new Batcher<string, true>((keys) =>
    eachOf(keys.length, () =>
      this.db.Lease.collection.bulkWrite(
        keys.map((key) => ({ deleteOne: { filter: { key, owner: this.owner } } })),
        { ordered: false },
      ),
    ),
  );
  /** Finished turns of the same tick are marked done with one command. */
  private readonly finished = new Batcher<{ id: string; attempts: number }, true>((done) =>
    eachOf(done.length, () =>
      this.db.InboundMessage.collection.bulkWrite(
        done.map(({ id, attempts }) => ({
          updateOne: {
            filter: { _id: new Types.ObjectId(id) },
            update: {
              $set: { status: 'done', attempts, updatedAt: new Date() },
              $unset: { lease: 1, error: 1 },
            },
          },
        })),
        { ordered: false },
      ),
    ),
  );

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly handler: TurnHandler,
    opts: InboxOptions = {},
  ) {
    this.opts = {
      maxAttempts: 3,
      retryDelayMs: 1_000,
      leaseMs: 60_000,
      pollMs: 1_000,
      staleMs: 2_000,
      rateLimit: { burst: 20, perSecond: 2 },
      ...opts,
    };
    this.limiter = this.opts.rateLimit ? new TokenBuckets(this.opts.rateLimit) : undefined;
  }

  /**
   * Persists the message and schedules its turn. Returns 'duplicate' (and does nothing) for a message
   * already accepted. Resolves once the message is durable: the caller may acknowledge the platform.
   */
  async accept(activity: Activity): Promise<{ status: 'accepted' | 'duplicate'; id?: string }> {
    storableSchema.parse(activity);
    const key = conversationKey(activity.address);
    const _id = new Types.ObjectId();
    const id = String(_id);
    const now = new Date();
    const message: NewInbound = {
      _id,
      channel: activity.address.channel,
      platformMessageId: activity.platformMessageId,
      conversationKey: key,
      activity,
      status: 'received',
      attempts: 0,
      createdAt: now,
      updatedAt: now,
    };
    const noted = (): true => {
      this.mine.set(key, (this.mine.get(key) ?? new Set<string>()).add(id));
      return true;
    };
    try {
      if (this.idleHere(key) && (this.limiter?.take(key) ?? 0) === 0) {
        const lease = { owner: this.owner, until: new Date(now.getTime() + this.opts.leaseMs) };
        const stored = this.stored.add(withFields(message, { status: 'processing' as const, lease }));
        const doc: InboundMessageRecord = message;
        this.schedule(key, activity.address, {
          doc,
          stored: stored.then(noted, () => false),
          // When unsure, the message goes the common way: given back, then claimed in its turn
          // (by this instance's next drain or whoever's poller), not left claimed for the lease's length.
          held: this.lease(key).catch(() => false),
          older: this.olderPending.add(key).catch(() => true),
        });
        await stored;
      } else {
        await this.stored.add(message);
        noted();
        this.schedule(key, activity.address);
      }
      return { status: 'accepted', id };
    } catch (err) {
      if (isDuplicateKeyError(err)) return { status: 'duplicate' };
      throw err;
    }
  }

  /** Nothing of this conversation is running, waiting or paced here. */
  private idleHere(key: string): boolean {
    return !this.chains.has(key) && !this.queued.has(key) && !this.paced.has(key);
  }

  /** Conversations (of the same tick) with unfinished messages, found with one query. */
  private readonly olderPending = new Batcher<string, boolean>(async (keys) => {
    const found = await driverCollection<NewInbound>(this.db.InboundMessage)
      .find(
        { conversationKey: { $in: [...new Set(keys)] }, ...this.pendingFilter(new Date()) },
        { projection: { conversationKey: 1 } },
      )
      .toArray();
    const pending = new Set(found.map((m) => m.conversationKey));
    return keys.map((key) => ({ ok: true, value: pending.has(key) }));
  });

  /** Gives a message claimed at acceptance back, to be claimed again in its turn (by whoever runs it). */
  private async unclaim(id: Types.ObjectId): Promise<void> {
    await this.db.InboundMessage.updateOne(
      { _id: id, 'lease.owner': this.owner },
      { $set: { status: 'received' }, $unset: { lease: 1 } },
    );
  }

  /**
   * Picks up messages accepted but not finished (by this or a crashed instance), and from then on
   * looks for them every `pollMs` until {@link stop}.
   */
  async recover(): Promise<number> {
    const found = await this.sweep(0);
    if (!this.poller) {
      this.poller = setInterval(() => void this.poll(), this.opts.pollMs);
      this.poller.unref();
    }
    return found;
  }

  /** Stops the poller (turns already scheduled still run; see {@link idle}). */
  stop(): void {
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
    // Paced messages stay stored and are picked up by the next start (or another instance).
    for (const { timer, wake } of this.paced.values()) {
      clearTimeout(timer);
      wake();
    }
    this.paced.clear();
  }

  /** Resolves when every scheduled turn has finished, paced ones included. */
  async idle(): Promise<void> {
    while (this.chains.size > 0 || this.paced.size > 0 || this.polling)
      await Promise.all([
        this.polling,
        ...this.chains.values(),
        ...[...this.paced.values()].map((p) => p.done),
      ]);
  }

  /**
   * Runs `task` after everything already queued for this conversation here, holding the
   * conversation's lease so no other instance runs a turn for it at the same time.
   */
  runInOrder(key: string, task: () => Promise<void>): Promise<void> {
    return this.chain(key, async () => {
      const deadline = Date.now() + this.opts.leaseMs * 2;
      for (let wait = 10; !(await this.lease(key)); wait = Math.min(wait * 2, 500)) {
        if (Date.now() > deadline) throw new Error(`conversation ${key} stayed leased by another instance`);
        await sleep(wait);
      }
      try {
        await task();
      } finally {
        await this.unlease(key);
      }
    });
  }

  private chain(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous
      .then(task)
      .catch((err: unknown) => this.log.error({ err }, 'conversation task failed'));
    this.chains.set(key, next);
    void next.finally(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }

  private lease(key: string): Promise<boolean> {
    return this.leases.add(`inbox:${key}`);
  }

  private async unlease(key: string): Promise<void> {
    await this.released.add(`inbox:${key}`);
  }

  /** Unfinished messages: new, failed with attempts left, or claimed by a worker whose lease ran out. */
  private pendingFilter(now: Date): Record<string, unknown> {
    return {
      $or: [
        { status: 'received' },
        { status: 'failed', attempts: { $lt: this.opts.maxAttempts } },
        { status: 'processing', 'lease.until': { $lte: now } },
      ],
    };
  }

  private schedule(key: string, address: Pick<Address, 'channel' | 'chatId'>, head?: Head): void {
    if (this.queued.has(key)) return;
    this.queued.add(key);
    void this.chain(key, () => {
      this.queued.delete(key);
      return this.drain(key, address, head);
    });
  }

  private poll(): Promise<void> {
    if (this.polling) return this.polling;
    const run = (async () => {
      this.limiter?.prune();
      await this.sweep(this.opts.staleMs);
    })()
      .catch((err: unknown) => this.log.warn({ err }, 'inbox poll failed'))
      .finally(() => {
        if (this.polling === run) this.polling = undefined;
      });
    this.polling = run;
    return run;
  }

  /** Schedules every conversation with unfinished messages older than `minAgeMs` and no local work. */
  private async sweep(minAgeMs: number): Promise<number> {
    const now = new Date();
    const pending = await this.db.InboundMessage.find(
      { ...this.pendingFilter(now), createdAt: { $lte: new Date(now.getTime() - minAgeMs) } },
      { activity: 1, conversationKey: 1 },
    ).lean();
    const seen = new Set<string>();
    for (const msg of pending) {
      const parsed = activitySchema.safeParse(msg.activity);
      if (!parsed.success) continue;
      const key = conversationKey(parsed.data.address);
      // Stored by a version without the field: the drain finds a conversation's messages by it.
      if (msg.conversationKey !== key)
        await this.db.InboundMessage.updateOne({ _id: msg._id }, { $set: { conversationKey: key } });
      if (seen.has(key) || (minAgeMs > 0 && (this.chains.has(key) || this.paced.has(key)))) continue;
      seen.add(key);
      this.schedule(key, parsed.data.address);
    }
    return pending.length;
  }

  /**
   * Under the conversation's lease, runs its unfinished messages oldest first until none is left.
   * Without the lease another instance is on it, and its loop will reach this message too.
   */
  private async drain(key: string, address: Pick<Address, 'channel' | 'chatId'>, head?: Head): Promise<void> {
    let first: InboundMessageRecord | undefined;
    if (head) {
      const [held, stored, older] = await Promise.all([head.held, head.stored, head.older]);
      // Without the lease, or behind older messages, it waits its turn like any other.
      if (stored && (!held || older)) await this.unclaim(head.doc._id);
      if (!held) return;
      if (stored && !older) first = head.doc;
    } else if (!(await this.lease(key))) return;
    try {
      for (;;) {
        let claimed: InboundMessageRecord | null | undefined = first;
        first = undefined;
        if (!claimed) {
          // Paced before the claim: a message left waiting stays unclaimed for whoever resumes it.
          const waitMs = this.limiter?.take(key) ?? 0;
          if (waitMs > 0) {
            this.resumeLater(key, address, waitMs);
            return;
          }
          claimed = await this.claimNext(key);
        }
        if (!claimed) {
          this.mine.delete(key); // whatever was accepted here was finished by another instance
          return;
        }
        const id = String(claimed._id);
        await this.process(claimed);
        const left = this.mine.get(key);
        left?.delete(id);
        if (!left || left.size === 0) {
          // Nothing more accepted here: what others accepted is theirs to start, or the poller's.
          this.mine.delete(key);
          return;
        }
        // Renew before the next turn; if it lapsed and someone else took over, let them carry on.
        if (!(await this.lease(key))) return;
      }
    } finally {
      await this.unlease(key);
    }
  }

  /** Schedules the conversation again once its pace allows; the lease is given up meanwhile. */
  private resumeLater(key: string, address: Pick<Address, 'channel' | 'chatId'>, waitMs: number): void {
    if (this.paced.has(key)) return;
    let wake = (): void => undefined;
    const done = new Promise<void>((resolve) => (wake = resolve));
    const timer = setTimeout(() => {
      this.paced.delete(key);
      this.schedule(key, address);
      wake();
    }, waitMs);
    this.paced.set(key, { timer, done, wake });
  }

  /** Claims the conversation's oldest unfinished message (as it was before the claim), if any. */
  private claimNext(key: string): Promise<InboundMessageRecord | null> {
    return this.nexts.add(key);
  }

  /**
   * The next messages of the conversations whose turn starts in the same tick, found with one query
   * and leased with one bulk update. Each conversation is drained under its lease, so nobody else
   * claims its messages in between; should a claim still not land (fewer matched than were sent), the
   * messages are read back to see which carry this batch's lease, and the others are left to the poller.
   */
  private readonly nexts = new Batcher<string, InboundMessageRecord | null>(async (keys) => {
    const now = new Date();
    const pending = await this.db.InboundMessage.find({
      conversationKey: { $in: [...new Set(keys)] },
      ...this.pendingFilter(now),
    })
      .sort({ createdAt: 1, _id: 1 })
      .lean<InboundMessageRecord[]>();
    const oldest = new Map<string, InboundMessageRecord>();
    for (const msg of pending)
      if (msg.conversationKey !== undefined && !oldest.has(msg.conversationKey))
        oldest.set(msg.conversationKey, msg);
    const picks = [...oldest.values()];
    const lease = { owner: this.owner, until: new Date(now.getTime() + this.opts.leaseMs) };
    const ids = picks.map((m) => m._id);
    const claimed = await leasedEach(
      ids,
      lease,
      () =>
        this.db.InboundMessage.collection.bulkWrite(
          ids.map((_id) => ({
            updateOne: {
              filter: { _id, ...this.pendingFilter(now) },
              update: { $set: { status: 'processing', lease, updatedAt: now } },
            },
          })),
          { ordered: false },
        ),
      () =>
        this.db.InboundMessage.find({ _id: { $in: ids } }, { lease: 1 }).lean<
          Pick<InboundMessageRecord, '_id' | 'lease'>[]
        >(),
    );
    const given = new Set<string>();
    return keys.map((key) => {
      const msg = oldest.get(key);
      if (!msg || !claimed.has(String(msg._id)) || given.has(key)) return { ok: true, value: null };
      given.add(key);
      return { ok: true, value: msg };
    });
  });

  /** Claims one message again (to retry its turn), returning it as it was before. */
  private claim(id: string): Promise<InboundMessageRecord | null> {
    const now = new Date();
    return this.db.InboundMessage.findOneAndUpdate(
      { _id: id, ...this.pendingFilter(now) },
      {
        $set: {
          status: 'processing',
          lease: { owner: this.owner, until: new Date(now.getTime() + this.opts.leaseMs) },
        },
      },
      // The document as it was before this claim: its status tells whether a turn for it ever started.
      { returnDocument: 'before' },
    ).lean<InboundMessageRecord>();
  }

  /**
   * Runs the turn of a message claimed by {@link claimNext}, retrying in place (claiming it again) so
   * later messages of the conversation wait.
   */
  private async process(first: InboundMessageRecord): Promise<void> {
    const id = String(first._id);
    let claimed: InboundMessageRecord | null = first;
    while (claimed) {
      const activity = activitySchema.parse(claimed.activity);
      const attempts = claimed.attempts + 1;
      try {
        await this.handler(activity, id, { finalFailure: false, firstRun: claimed.status === 'received' });
        await this.finished.add({ id, attempts });
        return;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const final = attempts >= this.opts.maxAttempts;
        this.log.error({ err, inboxId: id, attempts, final }, 'turn failed');
        await this.db.InboundMessage.updateOne(
          { _id: id },
          { $set: { status: 'failed', attempts, error: message }, $unset: { lease: 1 } },
        );
        if (final) {
          await this.handler(activity, id, { finalFailure: true, firstRun: false }).catch((e: unknown) =>
            this.log.error({ err: e, inboxId: id }, 'could not tell the citizen about a failed turn'),
          );
          return;
        }
        await sleep(this.opts.retryDelayMs * attempts);
        claimed = await this.claim(id);
      }
    }
  }
}
