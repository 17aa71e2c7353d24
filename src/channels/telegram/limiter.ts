/** Telegram's published limits: about one message a second per chat, thirty a second overall. */
export interface SendLimits {
  /** Minimum gap between two messages to one chat (default 1000 ms). */
  perChatIntervalMs?: number;
  /** Messages per second across all chats (default 30). */
  globalPerSecond?: number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A small in-process pacer for Telegram's send limits. Slots are reserved synchronously, so concurrent
 * senders never take the same one; the caller then waits for its slot. The overall limit is a sliding
 * window: at most `globalPerSecond` slots in any second, so a burst within the budget goes out at
 * once instead of being spaced evenly (what Telegram counts is messages per second, not their spacing).
 * It paces one process only: with several instances, Telegram's 429 + retry_after (handled by the
 * sender and the outbox) is the backstop.
 *
 * @example
 * const limiter = new SendLimiter();
 * await limiter.acquire('42'); // resolves when chat 42 may be sent to
 */
export class SendLimiter {
  private readonly perChat: number;
  /** The last `recent.length` global slots, oldest at `oldest`, in the order (and time) they were given. */
  private readonly recent: Float64Array;
  private readonly windowMs: number;
  private oldest = 0;
  private latest = -Infinity;
  private readonly chatNext = new Map<string, number>();
  private acquired = 0;

  constructor(
    limits: SendLimits = {},
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = defaultSleep,
  ) {
    this.perChat = limits.perChatIntervalMs ?? 1000;
    const perSecond = limits.globalPerSecond ?? 30;
    const count = Math.max(1, Math.floor(perSecond));
    this.recent = new Float64Array(count).fill(-Infinity);
    this.windowMs = (1000 * count) / perSecond;
  }

  /** Waits for the next slot of `chatId` (and of the bot as a whole); resolves with the slot's time. */
  async acquire(chatId: string): Promise<number> {
    this.acquired += 1;
    if (this.acquired % 1000 === 0) this.forgetIdleChats();
    // The chat's slot first, then a global one: a chat waiting out its second must not hold others up.
    const start = this.now();
    const chatSlot = Math.max(start, this.chatNext.get(chatId) ?? 0);
    this.chatNext.set(chatId, chatSlot + this.perChat);
    if (chatSlot > start) await this.sleep(chatSlot - start);
    // Never earlier than the chat's slot, even if a timer fires a hair early.
    const ready = Math.max(this.now(), chatSlot);
    // Slots are given in time order, so the one given `count` slots ago starts the window to respect.
    const slot = Math.max(ready, this.latest, (this.recent[this.oldest] ?? -Infinity) + this.windowMs);
    this.recent[this.oldest] = slot;
    this.oldest = (this.oldest + 1) % this.recent.length;
    this.latest = slot;
    this.chatNext.set(chatId, Math.max(this.chatNext.get(chatId) ?? 0, slot + this.perChat));
    if (slot > ready) await this.sleep(slot - ready);
    return slot;
  }

  /** Holds a chat back after Telegram answered 429 with `retry_after`. */
  pause(chatId: string, ms: number): void {
    this.chatNext.set(chatId, Math.max(this.chatNext.get(chatId) ?? 0, this.now() + ms));
  }

  private forgetIdleChats(): void {
    const now = this.now();
    for (const [chat, next] of this.chatNext) if (next < now) this.chatNext.delete(chat);
  }
}
