import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../db/connection.js';
import { isDuplicateKeyError } from '../db/models/sequence.js';
import { activitySchema, conversationKey, type Activity } from './activity.js';

export interface InboxOptions {
  /** Attempts at a turn before the message is left as failed (kept, visible) and the citizen told. */
  maxAttempts?: number;
  retryDelayMs?: number;
  leaseMs?: number;
}

/** What the inbox runs for each accepted message; `finalAttempt` lets it apologise when giving up. */
export type TurnHandler = (
  activity: Activity,
  inboxId: string,
  attempt: { finalFailure: boolean },
) => Promise<void>;

/**
 * Every inbound message is persisted (unique on channel + platform message id) before any work, then
 * processed one at a time per conversation, so a duplicate delivery is a no-op, the citizen's messages
 * are handled in the order they arrived, and a message accepted before a crash is processed after the restart.
 */
export class Inbox {
  private readonly owner = randomUUID();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly opts: Required<InboxOptions>;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly handler: TurnHandler,
    opts: InboxOptions = {},
  ) {
    this.opts = { maxAttempts: 3, retryDelayMs: 1_000, leaseMs: 60_000, ...opts };
  }

  /**
   * Persists the message and schedules its turn. Returns 'duplicate' (and does nothing) for a message
   * already accepted. Resolves once the message is durable: the caller may acknowledge the platform.
   */
  async accept(activity: Activity): Promise<{ status: 'accepted' | 'duplicate'; id?: string }> {
    try {
      const doc = await this.db.InboundMessage.create({
        channel: activity.address.channel,
        platformMessageId: activity.platformMessageId,
        activity,
      });
      const id = String(doc._id);
      this.schedule(id, conversationKey(activity.address));
      return { status: 'accepted', id };
    } catch (err) {
      if (isDuplicateKeyError(err)) return { status: 'duplicate' };
      throw err;
    }
  }

  /** Picks up messages accepted but not finished (by this or a crashed instance). */
  async recover(): Promise<number> {
    const now = new Date();
    const pending = await this.db.InboundMessage.find({
      $or: [
        { status: 'received' },
        { status: 'processing', 'lease.until': { $lte: now } },
        { status: 'failed', attempts: { $lt: this.opts.maxAttempts } },
      ],
    })
      .sort({ createdAt: 1 })
      .lean();
    for (const msg of pending) {
      const parsed = activitySchema.safeParse(msg.activity);
      if (parsed.success) this.schedule(String(msg._id), conversationKey(parsed.data.address));
    }
    return pending.length;
  }

  /** Resolves when every scheduled turn has finished. */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  /** Runs `task` after everything already queued for this conversation. */
  runInOrder(key: string, task: () => Promise<void>): Promise<void> {
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

  private schedule(id: string, key: string): void {
    void this.runInOrder(key, () => this.process(id));
  }

  /** Claims the message and runs its turn, retrying in place so later messages of the conversation wait. */
  private async process(id: string): Promise<void> {
    for (;;) {
      const now = new Date();
      const claimed = await this.db.InboundMessage.findOneAndUpdate(
        {
          _id: id,
          $or: [
            { status: 'received' },
            { status: 'failed', attempts: { $lt: this.opts.maxAttempts } },
            { status: 'processing', 'lease.until': { $lte: now } },
          ],
        },
        {
          $set: {
            status: 'processing',
            lease: { owner: this.owner, until: new Date(now.getTime() + this.opts.leaseMs) },
          },
        },
        { returnDocument: 'after' },
      ).lean();
      if (!claimed) return;
      const activity = activitySchema.parse(claimed.activity);
      const attempts = claimed.attempts + 1;
      try {
        await this.handler(activity, id, { finalFailure: false });
        await this.db.InboundMessage.updateOne(
          { _id: id },
          { $set: { status: 'done', attempts }, $unset: { lease: 1, error: 1 } },
        );
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
          await this.handler(activity, id, { finalFailure: true }).catch((e: unknown) =>
            this.log.error({ err: e, inboxId: id }, 'could not tell the citizen about a failed turn'),
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, this.opts.retryDelayMs * attempts));
      }
    }
  }
}
