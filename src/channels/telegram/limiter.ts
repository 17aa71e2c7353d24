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
 * senders never take the same one; the caller then waits for its slot. It paces one process only: with
 * several instances, Telegram's 429 + retry_after (handled by the sender and the outbox) is the backstop.
 *
 * @example
 * const limiter = new SendLimiter();
 * await limiter.acquire('42'); // resolves when chat 42 may be sent to
 */
export class SendLimiter {
  private readonly perChat: number;
  private readonly spacing: number;
  private readonly chatNext = new Map<string, number>();
  private globalNext = 0;
  private acquired = 0;

  constructor(
    limits: SendLimits = {},
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = defaultSleep,
  ) {
    this.perChat = limits.perChatIntervalMs ?? 1000;
    this.spacing = 1000 / (limits.globalPerSecond ?? 30);
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
    const slot = Math.max(ready, this.globalNext);
    this.globalNext = slot + this.spacing;
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
