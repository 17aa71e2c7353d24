import type { Address } from '../../engine/activity.js';
import type { ChannelSender } from '../../engine/outbox.js';
import type { Reply } from '../../engine/replies.js';

/**
 * A channel that keeps what the bot sends, per chat, for transcript tests and the terminal chat. It can
 * be told to fail the next sends, to exercise the outbox's retries.
 */
export class CollectingSender implements ChannelSender {
  readonly sent = new Map<string, Reply[]>();
  private failures = 0;
  private readonly waiters = new Set<() => void>();

  async send(address: Address, reply: Reply): Promise<{ platformMessageId: string }> {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('collector: simulated send failure');
    }
    const list = this.sent.get(address.chatId) ?? [];
    list.push(reply);
    this.sent.set(address.chatId, list);
    for (const wake of this.waiters) wake();
    return { platformMessageId: `${address.chatId}:${list.length}` };
  }

  /** Makes the next `n` sends throw. */
  failNext(n: number): void {
    this.failures = n;
  }

  /** Everything sent to a chat so far. */
  repliesTo(chatId: string): Reply[] {
    return this.sent.get(chatId) ?? [];
  }

  /** Resolves once `predicate` holds, re-checked after every send; rejects after `timeoutMs`. */
  async waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`collector: condition not met within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }
}
