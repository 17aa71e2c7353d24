import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { Address } from '../../engine/activity.js';
import type { ChannelSender } from '../../engine/outbox.js';
import { toPlainText, type Reply } from '../../engine/replies.js';
import { AppError } from '../../errors.js';
import type { WwebClientLike } from './client.js';

/** Pace of sends. Unofficial clients that send fast get their number banned, so both are conservative. */
export interface RateLimit {
  /** Minimum gap between two messages to one chat (default 1000 ms: about 1 message/s per chat). */
  perChatMs?: number;
  /** Minimum gap between any two messages (default 100 ms: about 10 messages/s overall). */
  globalGapMs?: number;
}

/**
 * Hands out send slots: each call reserves the earliest moment that is at least `perChatMs` after the
 * chat's previous slot and `globalGapMs` away from every other reserved slot, and returns how long to
 * wait for it. Reservation is synchronous, so concurrent sends cannot share a slot, and a chat waiting
 * for its own per-chat gap does not hold up the others.
 */
export class SendPacer {
  private readonly nextPerChat = new Map<string, number>();
  /** Reserved send times, ascending; past ones are dropped. */
  private slots: number[] = [];
  private readonly perChatMs: number;
  private readonly globalGapMs: number;

  constructor(
    limit: RateLimit = {},
    private readonly now: () => number = Date.now,
  ) {
    this.perChatMs = limit.perChatMs ?? 1000;
    this.globalGapMs = limit.globalGapMs ?? 100;
  }

  /** Milliseconds to wait before sending to `chatId`. */
  reserve(chatId: string): number {
    const now = this.now();
    if (this.nextPerChat.size > 10_000) {
      for (const [chat, next] of this.nextPerChat) if (next <= now) this.nextPerChat.delete(chat);
    }
    const gap = this.globalGapMs;
    this.slots = this.slots.filter((s) => s > now - gap);
    let slot = Math.max(now, this.nextPerChat.get(chatId) ?? 0);
    let at = 0;
    for (const taken of this.slots) {
      if (slot <= taken - gap) break;
      if (slot < taken + gap) slot = taken + gap;
      at += 1;
    }
    this.slots.splice(at, 0, slot);
    this.nextPerChat.set(chatId, slot + this.perChatMs);
    return slot - now;
  }
}

const sentSchema = z.object({ id: z.object({ _serialized: z.string() }) });

/**
 * WhatsApp Web's renderer. Buttons and lists are not reliable on unofficial clients, so every reply is
 * plain text: choices numbered (the citizen answers "2"), links and media as URLs.
 */
export class WwebSender implements ChannelSender {
  constructor(
    private readonly client: () => WwebClientLike | undefined,
    private readonly pacer: SendPacer,
    /** How long the outbox should wait when the client is not logged in yet. */
    private readonly notReadyRetryMs = 5_000,
  ) {}

  async send(address: Address, reply: Reply): Promise<{ platformMessageId?: string }> {
    const client = this.client();
    if (!client) {
      throw new AppError('CHANNEL_SEND_FAILED', ['whatsapp-web', 'the client is not logged in'], {
        retryAfterMs: this.notReadyRetryMs,
      });
    }
    const wait = this.pacer.reserve(address.chatId);
    if (wait > 0) await sleep(wait);
    let sent: unknown;
    try {
      sent = await client.sendMessage(address.chatId, toPlainText(reply), {
        linkPreview: reply.kind === 'link',
      });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new AppError('CHANNEL_SEND_FAILED', ['whatsapp-web', reason], { cause: err });
    }
    const parsed = sentSchema.safeParse(sent);
    return parsed.success ? { platformMessageId: parsed.data.id._serialized } : {};
  }
}
