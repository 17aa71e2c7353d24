import { createHash, randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import type { Logger } from 'pino';
import { Batcher, driverCollection, eachOf, leasedEach, type Outcome } from '../db/batch.js';
import type { Sequence } from '../db/models/sequence.js';
import type { Db } from '../db/connection.js';
import { leaseFree } from '../db/models/common.js';
import type { OutboundMessageRecord, OutboundStatus } from '../db/models/outbound.js';
import { AppError } from '../errors.js';
import { addressSchema, conversationKey, type Address, type ChannelId } from './activity.js';
import { replySchema, type Reply } from './replies.js';
import { withFields } from '../objects.js';

/** What a channel's renderer does with one reply: send it, or throw (an AppError may carry `retryAfterMs`). */
export interface ChannelSender {
  send(address: Address, reply: Reply, idempotencyKey: string): Promise<{ platformMessageId?: string }>;
}

export interface OutboxOptions {
  /** After this many failed attempts a message is dead-lettered (kept, visible, never silently dropped). */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt, with jitter, capped at `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * How often the database is scanned for due messages this instance was not told about (another
   * instance's, a crashed one's); this instance's own sends and retries are timed in memory.
   */
  pollMs?: number;
  /** How long a claimed message stays leased to this instance while it sends. */
  leaseMs?: number;
}

/** The states of a message still to be sent (`sending`: leased, maybe by a crashed instance). */
const UNSENT: OutboundStatus[] = ['pending', 'failed', 'sending'];
/** A reply about to be stored, before its number is drawn. */
type Unnumbered = Omit<OutboundMessageRecord, 'seq'>;

/** A reply this instance enqueued: its place, and while it was never tried, the stored document. */
interface LocalEntry {
  seq: number;
  id: Types.ObjectId;
  stored?: OutboundMessageRecord | undefined;
}

/** Replies of one turn, numbered from this instance's memory of the conversation's counter. */
interface Numbered {
  key: string;
  docs: OutboundMessageRecord[];
}

/** Conversations whose settled `seq` is remembered (beyond, the oldest is forgotten: one more query). */
const MAX_REMEMBERED = 50_000;

/**
 * Replies are persisted first, then sent by a dispatcher: in order per conversation, with exponential
 * back-off and jitter, honouring a platform's retry-after, and dead-lettered after `maxAttempts`.
 * Leases (not in-memory locks) let several instances share the work.
 *
 * @example
 * outbox.register('web', webSender);
 * await outbox.enqueue(address, [{ kind: 'text', text: 'Hello' }], 'turn:42');
 */
export class Outbox {
  private readonly senders = new Map<ChannelId, ChannelSender>();
  private readonly owner = randomUUID();
  private readonly opts: Required<OutboxOptions>;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  /** Conversations being sent right now (one task each), and those to look at again when it ends. */
  private readonly active = new Map<string, Promise<void>>();
  private readonly rerun = new Set<string>();
  /** Conversations whose head waits for a retry time, with the timer that resumes them. */
  private readonly waiting = new Map<string, NodeJS.Timeout>();
  /** Replies sent in the same tick (many conversations at once) are marked sent with one command. */
  private readonly marks = new Batcher<
    { _id: Types.ObjectId; platformMessageId?: string | undefined; at: Date },
    true
  >((sent) =>
    eachOf(sent.length, () =>
      this.db.OutboundMessage.collection.bulkWrite(
        sent.map(({ _id, platformMessageId, at }) => ({
          updateOne: {
            filter: { _id },
            update: {
              $set: {
                status: 'sent',
                sentAt: at,
                updatedAt: at,
                ...(platformMessageId ? { platformMessageId } : {}),
              },
              $unset: { lease: 1, lastError: 1 },
              $inc: { attempts: 1 },
            },
          },
        })),
        { ordered: false },
      ),
    ),
  );
  /**
   * New replies of the same tick (turns of many conversations ending at once), numbered and inserted
   * in three commands whatever their number: one `$inc` per conversation's counter, one read of the
   * counters, one insert. A conversation's replies are only ever enqueued under its lease, so nobody
   * else moves its counter in between; if that were broken, the unique (conversationKey, seq) index
   * refuses the insert and the turn is retried. Resolves, per turn, with its replies as stored (a reply
   * already stored, by a replayed turn racing this one, is left out).
   */
  private readonly stores = new Batcher<Unnumbered[], OutboundMessageRecord[]>(async (turns) => {
    const counter = (doc: Unnumbered): string => `outbox:${doc.conversationKey}`;
    const drawn = new Map<string, number>();
    for (const doc of turns.flat()) drawn.set(counter(doc), (drawn.get(counter(doc)) ?? 0) + 1);
    await this.sequences().bulkWrite(
      [...drawn].map(([name, count]) => ({
        updateOne: { filter: { _id: name }, update: { $inc: { value: count } }, upsert: true },
      })),
      { ordered: false },
    );
    const counters = await this.db.Sequence.find({ _id: { $in: [...drawn.keys()] } }).lean();
    const nextSeq = new Map(counters.map((c) => [c._id, c.value - (drawn.get(c._id) ?? 0) + 1]));
    const numbered = turns.map((docs) =>
      this.claimIfHead(
        docs.map((doc): OutboundMessageRecord => {
          const seq = nextSeq.get(counter(doc));
          if (seq === undefined) throw new Error(`sequence ${counter(doc)} missing after its increment`);
          nextSeq.set(counter(doc), seq + 1);
          return withFields(doc, { seq });
        }),
      ),
    );
    return this.insert(numbered);
  });

  /**
   * New replies of the same tick numbered from memory ({@link lastSeq}): inserted while the counters
   * are raised to match (`$max`, so a counter is never left behind what was inserted), two commands
   * in parallel instead of three in a row. Should the memory be stale (another instance enqueued
   * meanwhile), the insert collides on (conversationKey, seq), the memory is dropped and the turn
   * retried, drawing its numbers from the counter.
   */
  private readonly numbered = new Batcher<Numbered, OutboundMessageRecord[]>(async (turns) => {
    const top = new Map<string, number>();
    for (const { key, docs } of turns)
      for (const doc of docs) top.set(key, Math.max(top.get(key) ?? 0, doc.seq));
    const [outcomes] = await Promise.all([
      this.insert(turns.map((t) => t.docs)),
      this.sequences().bulkWrite(
        [...top].map(([key, value]) => ({
          updateOne: { filter: { _id: `outbox:${key}` }, update: { $max: { value } }, upsert: true },
        })),
        { ordered: false },
      ),
    ]);
    outcomes.forEach((outcome, i) => {
      const key = turns[i]?.key;
      if (!outcome.ok && key !== undefined) this.lastSeq.delete(key);
    });
    return outcomes;
  });

  private sequences(): ReturnType<typeof driverCollection<Sequence>> {
    return driverCollection<Sequence>(this.db.Sequence);
  }

  /**
   * Inserts numbered turns with one command and resolves, per turn, with its replies as stored (a
   * reply already stored, by a replayed turn racing this one, is left out), or the error of one that
   * could not be stored.
   */
  private async insert(turns: OutboundMessageRecord[][]): Promise<Outcome<OutboundMessageRecord[]>[]> {
    const all = turns.flat();
    const outcomes = await eachOf(all.length, () =>
      this.db.OutboundMessage.collection.insertMany(all, { ordered: false }),
    );
    const refused = all.filter((_, i) => outcomes[i]?.ok === false);
    // A refused reply whose `_id` (its idempotency key) is stored was enqueued by a replay: fine.
    const there = new Set(
      refused.length === 0
        ? []
        : (
            await this.db.OutboundMessage.find({ _id: { $in: refused.map((d) => d._id) } }, { _id: 1 }).lean()
          ).map((d) => String(d._id)),
    );
    let at = 0;
    return turns.map((docs): Outcome<OutboundMessageRecord[]> => {
      const mine = docs.map((doc) => ({ doc, outcome: outcomes[at++] }));
      const lost = mine.find(({ doc, outcome }) => outcome?.ok === false && !there.has(String(doc._id)));
      if (lost?.outcome?.ok === false) return { ok: false, error: lost.outcome.error };
      return { ok: true, value: mine.filter(({ outcome }) => outcome?.ok === true).map(({ doc }) => doc) };
    });
  }

  /**
   * Stores a turn's replies already leased to this instance for sending when they come right after
   * what it knows is settled and nothing of the conversation waits here: they are the head, and
   * this instance sends them next, so no claim is needed before the first send.
   */
  private claimIfHead(docs: OutboundMessageRecord[]): OutboundMessageRecord[] {
    const [first] = docs;
    if (!first || this.stopped) return docs;
    const key = first.conversationKey;
    if (this.settledThrough.get(key) !== first.seq - 1 || this.local.has(key) || this.waiting.has(key))
      return docs;
    const lease = { owner: this.owner, until: new Date(Date.now() + this.opts.leaseMs) };
    return docs.map((doc) => withFields(doc, { status: 'sending' as const, lease }));
  }

  /**
   * Claims of the same tick (many conversations' next replies at once) in one command. Each is the
   * same conditional update as {@link claim}; when fewer matched than were asked, the messages are
   * read back to see which carry this batch's lease.
   */
  private readonly claims = new Batcher<{ id: Types.ObjectId; now: Date }, boolean>(async (asked) => {
    const now = asked.reduce((latest, a) => (a.now > latest ? a.now : latest), new Date(0));
    const lease = { owner: this.owner, until: new Date(now.getTime() + this.opts.leaseMs) };
    const ids = asked.map((a) => a.id);
    const write = (): Promise<{ matchedCount: number }> =>
      this.db.OutboundMessage.collection.bulkWrite(
        ids.map((id) => ({
          updateOne: {
            filter: {
              _id: id,
              status: { $in: UNSENT },
              nextAttemptAt: { $lte: now },
              ...leaseFree(now),
            },
            update: { $set: { status: 'sending', lease, updatedAt: now } },
          },
        })),
        { ordered: false },
      );
    const ours = await leasedEach(ids, lease, write, () =>
      this.db.OutboundMessage.find({ _id: { $in: ids } }, { lease: 1 }).lean<
        Pick<OutboundMessageRecord, '_id' | 'lease'>[]
      >(),
    );
    return ids.map((id) => ({ ok: true, value: ours.has(String(id)) }));
  });
  /** What this instance enqueued and has not seen settled, per conversation, in `seq` order. */
  private readonly local = new Map<string, LocalEntry[]>();
  /**
   * Per conversation, a `seq` up to which every message is known sent or dead (a head query saw
   * nothing older unsent, then this instance settled the ones after it in turn). When this instance's
   * next message is the one right after, it is the head: it is claimed without asking the database.
   */
  private readonly settledThrough = new Map<string, number>();
  /**
   * Per conversation, the last `seq` this instance stored: its next replies are numbered from it
   * without reading the counter (see {@link numbered}). Bounded like {@link settledThrough}.
   */
  private readonly lastSeq = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    opts: OutboxOptions = {},
  ) {
    this.opts = {
      maxAttempts: 8,
      baseDelayMs: 500,
      maxDelayMs: 5 * 60_000,
      pollMs: 2_000,
      leaseMs: 30_000,
      ...opts,
    };
  }

  register(channel: ChannelId, sender: ChannelSender): void {
    this.senders.set(channel, sender);
  }

  /**
   * Persists replies for one conversation, numbered after everything already queued for it. Each reply's
   * idempotency key is `${keyBase}:${index}`, so enqueuing the same turn's replies twice stores them once.
   * At most three operations whatever the number of replies: which are stored already (skipped when
   * the caller knows none can be: `fresh`, a message's first turn), one draw of as many numbers as
   * are new, one insert.
   */
  async enqueue(
    address: Address,
    replies: readonly Reply[],
    keyBase: string,
    opts: { caseReference?: string | undefined; fresh?: boolean } = {},
  ): Promise<void> {
    const { caseReference } = opts;
    const key = conversationKey(address);
    const wanted = replies.map((reply, index) => {
      const idempotencyKey = `${keyBase}:${index}`;
      return { reply, idempotencyKey, _id: idOf(idempotencyKey) };
    });
    if (wanted.length === 0) return;
    const stored = opts.fresh
      ? new Set<string>()
      : await this.db.OutboundMessage.find({ _id: { $in: wanted.map((w) => w._id) } }, { _id: 1 })
          .lean()
          .then((docs) => new Set(docs.map((d) => String(d._id))));
    const fresh = wanted.filter((w) => !stored.has(String(w._id)));
    if (fresh.length > 0) {
      const now = new Date();
      // Written as they are (no hydration or validation, the costliest part of an insert under load),
      // so every field the schema would default is set here, typed against the model.
      const docs = fresh.map((w): Unnumbered => ({
        _id: w._id,
        channel: address.channel,
        conversationKey: key,
        address,
        reply: w.reply,
        idempotencyKey: w.idempotencyKey,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        createdAt: now,
        updatedAt: now,
        ...(caseReference ? { caseReference } : {}),
      }));
      const last = this.lastSeq.get(key);
      const stored =
        last === undefined
          ? await this.stores.add(docs)
          : await this.numbered.add({
              key,
              docs: this.claimIfHead(docs.map((doc, i) => withFields(doc, { seq: last + 1 + i }))),
            });
      // Numbers drawn for a reply a replay had stored already are unknown here: read the counter next time.
      if (last !== undefined) keepRecent(this.lastSeq, key, last + docs.length);
      else if (stored.length === docs.length)
        keepRecent(this.lastSeq, key, Math.max(...stored.map((doc) => doc.seq)));
      const queue = this.local.get(key) ?? [];
      for (const doc of stored) queue.push({ seq: doc.seq, id: doc._id, stored: doc });
      this.local.set(key, queue);
    }
    this.kick(key);
  }

  /** Starts dispatching: now, after every enqueue, and every `pollMs` for due retries. */
  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.opts.pollMs);
    this.timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const timer of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    await this.idle();
  }

  /**
   * Sends soon: one conversation (after an enqueue), or every conversation with something due (a
   * database scan; scans never overlap, and a kick during one schedules another).
   */
  kick(key?: string): void {
    if (this.stopped) return;
    if (key !== undefined) {
      this.dispatch(key);
      return;
    }
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = this.scan()
      .catch((err: unknown) => this.log.error({ err }, 'outbox dispatch pass failed'))
      .finally(() => {
        this.polling = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves when nothing is being sent right now (for tests and graceful shutdown). */
  async idle(): Promise<void> {
    while (this.polling || this.active.size > 0) await Promise.all([this.polling, ...this.active.values()]);
  }

  /**
   * Looks for due messages nobody is sending (another instance's, a crashed one's). Messages leased
   * for sending, and conversations this instance is already sending or timing a retry for, are
   * left out: their drain finds everything after them when it looks at the head again.
   */
  private async scan(): Promise<void> {
    const now = new Date();
    const due = await this.db.OutboundMessage.find(
      {
        status: { $in: UNSENT },
        nextAttemptAt: { $lte: now },
        ...leaseFree(now),
      },
      { conversationKey: 1 },
    ).lean();
    for (const key of new Set(due.map((d) => d.conversationKey)))
      if (!this.active.has(key) && !this.waiting.has(key)) this.dispatch(key);
  }

  /**
   * One task per conversation: a slow conversation (a platform's per-chat pacing, a retry) holds up
   * only itself, never the replies of other citizens.
   */
  private dispatch(key: string): void {
    if (this.stopped) return;
    if (this.active.has(key)) {
      this.rerun.add(key);
      return;
    }
    const pending = this.waiting.get(key);
    if (pending) clearTimeout(pending);
    this.waiting.delete(key);
    const task = this.drainConversation(key)
      .catch((err: unknown) => this.log.error({ err }, 'outbox dispatch failed'))
      .finally(() => {
        this.active.delete(key);
        if (this.rerun.delete(key)) this.dispatch(key);
      });
    this.active.set(key, task);
  }

  /** Looks at the conversation again when its head's retry time comes. */
  private retryAt(key: string, at: Date): void {
    if (this.stopped || this.waiting.has(key)) return;
    const timer = setTimeout(
      () => {
        this.waiting.delete(key);
        this.dispatch(key);
      },
      Math.max(0, at.getTime() - Date.now()) + 5,
    );
    timer.unref();
    this.waiting.set(key, timer);
  }

  /**
   * Sends one conversation's unsent messages strictly in `seq` order, stopping at the first that must
   * wait. After a send, when this instance enqueued the very next `seq` it is claimed by id at once;
   * otherwise the head comes from the database. When this instance enqueued nothing more the task
   * ends without another query (what other instances enqueue is found by their kick or the periodic scan).
   */
  private async drainConversation(key: string): Promise<void> {
    const known = this.settledThrough.get(key);
    // The first message may skip the head query only when it is this instance's and follows `known`.
    let expected: number | undefined =
      known !== undefined && this.local.get(key)?.[0]?.seq === known + 1 ? known + 1 : undefined;
    for (;;) {
      const mine = this.local.get(key)?.[0];
      if (expected !== undefined && mine === undefined) {
        this.local.delete(key);
        return;
      }
      let claimed =
        expected !== undefined && mine?.seq === expected ? await this.claimMine(mine, new Date()) : null;
      if (!claimed) {
        const head = await this.db.OutboundMessage.findOne({
          conversationKey: key,
          status: { $in: UNSENT },
        })
          .sort({ seq: 1 })
          .lean<OutboundMessageRecord>();
        if (!head) {
          this.local.delete(key);
          return;
        }
        this.remember(key, head.seq - 1);
        const now = new Date();
        if (head.nextAttemptAt > now) {
          this.retryAt(key, head.nextAttemptAt);
          return;
        }
        claimed = await this.claim(head._id, now);
        if (!claimed) {
          // Another instance is sending it; look again once its lease would have run out.
          if (head.lease) this.retryAt(key, new Date(head.lease.until));
          return;
        }
      }
      // After a failure the loop fetches the head again, finds it not yet due, and times the retry.
      const outcome = await this.sendOne(claimed);
      if (outcome === 'failed') {
        // Its attempts changed: from now on it is claimed from the database, not from memory.
        if (mine?.id.equals(claimed._id)) mine.stored = undefined;
        expected = undefined;
        continue;
      }
      this.settled(key, claimed.seq);
      expected = claimed.seq + 1;
    }
  }

  /**
   * Claims a message this instance enqueued: when it is still as stored (never tried), through the
   * batched claim, which needs no read since the message is in memory; otherwise like any other.
   */
  private async claimMine(mine: LocalEntry, now: Date): Promise<OutboundMessageRecord | null> {
    const stored = mine.stored;
    if (!stored) return this.claim(mine.id, now);
    // Stored leased to this instance (see claimIfHead): sent as it is while the lease has time left.
    const until = stored.lease?.owner === this.owner ? stored.lease.until.getTime() : 0;
    if (until - now.getTime() > this.opts.leaseMs / 2) return stored;
    if (until > 0) return this.claim(mine.id, now);
    return (await this.claims.add({ id: mine.id, now })) ? stored : null;
  }

  /** Leases an unsent, due message to this instance for sending; null when it is not that (any more). */
  private claim(id: Types.ObjectId, now: Date): Promise<OutboundMessageRecord | null> {
    return this.db.OutboundMessage.findOneAndUpdate(
      {
        _id: id,
        status: { $in: UNSENT },
        nextAttemptAt: { $lte: now },
        ...leaseFree(now),
      },
      {
        $set: {
          status: 'sending',
          lease: { owner: this.owner, until: new Date(now.getTime() + this.opts.leaseMs) },
        },
      },
      { returnDocument: 'after' },
    ).lean<OutboundMessageRecord>();
  }

  /** Records that everything up to `seq` is settled, keeping the most recently active conversations. */
  private remember(key: string, seq: number): void {
    keepRecent(this.settledThrough, key, seq);
  }

  /** Forgets what this instance enqueued up to `seq` in the conversation: it is sent or dead. */
  private settled(key: string, seq: number): void {
    if (this.settledThrough.get(key) === seq - 1) this.remember(key, seq);
    const queue = this.local.get(key);
    if (!queue) return;
    while (queue[0] !== undefined && queue[0].seq <= seq) queue.shift();
    if (queue.length === 0) this.local.delete(key);
  }

  private async sendOne(msg: OutboundMessageRecord): Promise<'sent' | 'dead' | 'failed'> {
    try {
      const address = addressSchema.parse(msg.address);
      const reply = replySchema.parse(msg.reply);
      const sender = this.senders.get(address.channel);
      if (!sender) throw new AppError('CHANNEL_UNKNOWN', [address.channel]);
      const sent = await sender.send(address, reply, msg.idempotencyKey);
      await this.marks.add({ _id: msg._id, platformMessageId: sent.platformMessageId, at: new Date() });
      return 'sent';
    } catch (err) {
      const attempts = msg.attempts + 1;
      const dead = attempts >= this.opts.maxAttempts || (err instanceof AppError && err.permanent);
      const retryAfter = err instanceof AppError ? err.retryAfterMs : undefined;
      const backoff = Math.min(this.opts.baseDelayMs * 2 ** (attempts - 1), this.opts.maxDelayMs);
      const delay = Math.max(retryAfter ?? 0, backoff * (0.5 + Math.random() / 2));
      const message = err instanceof Error ? err.message : String(err);
      await this.db.OutboundMessage.updateOne(
        { _id: msg._id },
        {
          $set: {
            status: dead ? 'dead' : 'failed',
            attempts,
            lastError: message,
            nextAttemptAt: new Date(Date.now() + delay),
          },
          $unset: { lease: 1 },
        },
      );
      // The platform's wording can quote the chat or the message: it stays in `lastError`, not in logs.
      this.log.warn(
        {
          channel: msg.channel,
          attempts,
          dead,
          retryInMs: Math.round(delay),
          code: err instanceof AppError ? err.code : err instanceof Error ? err.name : 'unknown',
        },
        dead ? 'outbox send failed: dead-lettered' : 'outbox send failed: will retry',
      );
      // A dead letter no longer blocks the conversation; a failed one holds the later replies back.
      return dead ? 'dead' : 'failed';
    }
  }
}

/** Sets `key` in `map` as its most recent entry, forgetting the oldest beyond {@link MAX_REMEMBERED}. */
function keepRecent(map: Map<string, number>, key: string, value: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}

/**
 * A reply's `_id`, derived from its idempotency key: the "already queued?" check is then a lookup by
 * id, which every MongoDB (and the embedded server, which has no secondary indexes) answers directly.
 */
function idOf(idempotencyKey: string): Types.ObjectId {
  return new Types.ObjectId(createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 24));
}
