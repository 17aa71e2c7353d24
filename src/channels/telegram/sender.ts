import type { Logger } from 'pino';
import type { Telegram } from 'telegraf';
import { TelegramError } from 'telegraf';
import type { Address } from '../../engine/activity.js';
import type { ChannelSender } from '../../engine/outbox.js';
import type { Reply } from '../../engine/replies.js';
import { AppError } from '../../errors.js';
import type { SendLimiter } from './limiter.js';
import { renderReply, type TelegramCall } from './render.js';

/**
 * The Telegram renderer: each reply becomes Bot API calls through telegraf, paced by the limiter. Every
 * failure is thrown as CHANNEL_SEND_FAILED so the outbox retries it (429 with Telegram's retry_after),
 * and refusals (400, 403 "blocked by the user") end in the dead letters after the outbox's attempts.
 */
export class TelegramSender implements ChannelSender {
  constructor(
    private readonly telegram: Telegram,
    private readonly limiter: SendLimiter,
    private readonly log: Logger,
  ) {}

  async send(address: Address, reply: Reply): Promise<{ platformMessageId?: string }> {
    let last: string | undefined;
    for (const call of renderReply(reply)) {
      await this.limiter.acquire(address.chatId);
      last = await this.call(address.chatId, call);
    }
    return last === undefined ? {} : { platformMessageId: last };
  }

  private async call(chatId: string, call: TelegramCall): Promise<string> {
    try {
      const sent =
        call.method === 'sendMessage'
          ? await this.telegram.sendMessage(
              chatId,
              call.text,
              call.replyMarkup ? { reply_markup: call.replyMarkup } : {},
            )
          : await this.telegram.sendPhoto(
              chatId,
              call.photo,
              call.caption !== undefined ? { caption: call.caption } : {},
            );
      return String(sent.message_id);
    } catch (err) {
      throw this.failure(chatId, call.method, err);
    }
  }

  private failure(chatId: string, method: string, err: unknown): AppError {
    if (err instanceof TelegramError) {
      const code = err.code;
      if (code === 429) {
        const retryAfterMs = (err.parameters?.retry_after ?? 1) * 1000;
        this.limiter.pause(chatId, retryAfterMs);
        this.log.warn(
          { method, code, retryAfterMs },
          'telegram rate limit: retrying after the delay it asked for',
        );
        return new AppError('CHANNEL_SEND_FAILED', ['telegram', `429 retry after ${retryAfterMs} ms`], {
          cause: err,
          retryAfterMs,
        });
      }
      if (code >= 500) {
        this.log.warn({ method, code }, 'telegram server error: will retry');
      } else {
        // 400/403 will not heal by retrying (bot blocked, chat gone, bad markup); said loudly for operators.
        this.log.error(
          { method, code, description: err.description },
          'telegram refused the message (blocked by the user, or a bad request); it will be dead-lettered after the retries',
        );
      }
      return new AppError('CHANNEL_SEND_FAILED', ['telegram', `${code} ${err.description}`], { cause: err });
    }
    const reason = err instanceof Error ? err.name : 'unknown error';
    this.log.warn({ method, reason }, 'telegram unreachable: will retry');
    return new AppError('CHANNEL_SEND_FAILED', ['telegram', reason], { cause: err });
  }
}
