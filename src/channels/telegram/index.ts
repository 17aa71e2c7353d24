import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Telegraf } from 'telegraf';
import type { Channel, ChannelFactory } from '../types.js';
import { SendLimiter, type SendLimits } from './limiter.js';
import { TelegramSender } from './sender.js';
import { ALLOWED_UPDATES, parseTelegramUpdate } from './update.js';

export { parseTelegramUpdate, type ParsedUpdate, type UpdateRejection } from './update.js';
export { renderReply } from './render.js';

/** Where Telegram posts updates in webhook mode. */
export const TELEGRAM_WEBHOOK_PATH = '/webhooks/telegram';
const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

export interface TelegramChannelOptions {
  /** The bot token from @BotFather. */
  token: string;
  /** Another Bot API server (Telegram's self-hosted one, or a test fake); default https://api.telegram.org. */
  apiRoot?: string;
  /** Webhook mode: Telegram posts to `${publicUrl}/webhooks/telegram` with `secret` in its header. Long polling when absent. */
  webhook?: { publicUrl: string; secret: string };
  /** Defaults to the application's logger. */
  log?: Logger;
  /** Send pacing; Telegram's limits by default. */
  limits?: SendLimits;
  /** Long polling: first delay before storing an update again when the database refused it (doubles, max 30 s). */
  pollingRetryMs?: number;
}

/** What became of one update. */
export type UpdateOutcome = 'accepted' | 'duplicate' | 'ignored';

/** Compares in constant time; unequal lengths are compared against themselves so timing says nothing. */
function sameSecret(given: string | string[] | undefined, expected: Buffer): boolean {
  if (typeof given !== 'string') return false;
  const candidate = Buffer.from(given, 'utf8');
  if (candidate.length !== expected.length) {
    timingSafeEqual(expected, expected);
    return false;
  }
  return timingSafeEqual(candidate, expected);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The Telegram channel over telegraf. Webhook mode (POST /webhooks/telegram, secret token checked in
 * constant time, setWebhook on start) when `webhook` is given, telegraf's long polling otherwise; both
 * paths end in one `handleUpdate` (parse → Activity → receive), as grammY's `Bot.handleUpdate` does.
 *
 * @example
 * const app = await createApp({ ...deps, channels: [
 *   telegramChannel({ token: config.TELEGRAM_BOT_TOKEN, webhook: { publicUrl: config.PUBLIC_URL, secret } }),
 * ] });
 */
export function telegramChannel(opts: TelegramChannelOptions): ChannelFactory {
  return (ctx): Channel => {
    const log = (opts.log ?? ctx.log).child({ channel: 'telegram' });
    const bot = new Telegraf(opts.token, {
      // The polling handler retries until the update is stored; telegraf must not time it out meanwhile.
      handlerTimeout: Number.POSITIVE_INFINITY,
      telegram: { ...(opts.apiRoot !== undefined ? { apiRoot: opts.apiRoot } : {}), webhookReply: false },
    });
    const sender = new TelegramSender(bot.telegram, new SendLimiter(opts.limits), log);
    let stopping = false;
    let polling: Promise<void> | undefined;

    /** The one entry point of both modes: throws when the update could not be stored (so it is redelivered). */
    async function handleUpdate(raw: unknown): Promise<UpdateOutcome> {
      const parsed = parseTelegramUpdate(raw);
      if (!parsed.ok) {
        log.info(
          { updateId: parsed.updateId, reason: parsed.reason, detail: parsed.detail },
          'telegram update skipped',
        );
        if (parsed.callbackQueryId !== undefined) await answerTap(parsed.callbackQueryId);
        return 'ignored';
      }
      const outcome = await ctx.receive(parsed.activity);
      if (parsed.callbackQueryId !== undefined) await answerTap(parsed.callbackQueryId);
      return outcome;
    }

    async function answerTap(id: string): Promise<void> {
      // Only stops the button's spinner: the tap is already stored, so a failure here must not undo it.
      await bot.telegram.answerCbQuery(id).catch((err: unknown) => {
        log.warn(
          { reason: err instanceof Error ? err.message : 'unknown' },
          'could not answer a callback query',
        );
      });
    }

    /** Long polling has no redelivery once the offset moves on, so a refused update is retried here. */
    async function handlePolled(raw: unknown): Promise<void> {
      let delay = opts.pollingRetryMs ?? 500;
      for (;;) {
        try {
          await handleUpdate(raw);
          return;
        } catch (err) {
          if (stopping) {
            log.error({ err }, 'telegram update not stored before shutdown; it is lost');
            return;
          }
          log.error({ err, retryInMs: delay }, 'could not store a telegram update; retrying');
          await sleep(delay);
          delay = Math.min(delay * 2, 30_000);
        }
      }
    }

    bot.use(async (tctx) => {
      await handlePolled(tctx.update);
    });
    bot.catch((err) => {
      log.error({ err }, 'telegram update handler failed');
    });

    const channel: Channel = {
      id: 'telegram',
      sender,
      async start() {
        stopping = false;
        // getMe first: a wrong token or API root fails the start with Telegram's own answer.
        bot.botInfo = await bot.telegram.getMe();
        log.info(
          { username: bot.botInfo.username, mode: opts.webhook ? 'webhook' : 'polling' },
          'telegram bot connected',
        );
        if (opts.webhook) {
          const url = `${opts.webhook.publicUrl.replace(/\/+$/, '')}${TELEGRAM_WEBHOOK_PATH}`;
          await bot.telegram.setWebhook(url, {
            secret_token: opts.webhook.secret,
            allowed_updates: [...ALLOWED_UPDATES],
          });
          return;
        }
        polling = bot.launch({ allowedUpdates: [...ALLOWED_UPDATES] }).catch((err: unknown) => {
          if (!stopping) log.error({ err }, 'telegram long polling stopped');
        });
      },
      async stop() {
        stopping = true;
        if (polling) {
          const running = polling;
          polling = undefined;
          try {
            bot.stop('shutdown');
          } catch {
            // telegraf throws when polling has not begun yet (still in deleteWebhook): nothing to wait for.
            return;
          }
          await running;
        }
      },
    };

    const webhook = opts.webhook;
    if (webhook) {
      const expected = Buffer.from(webhook.secret, 'utf8');
      channel.routes = async (app: FastifyInstance): Promise<void> => {
        await app.register(async (scope) => {
          scope.post(TELEGRAM_WEBHOOK_PATH, {
            // Checked before the body is even parsed: a forged request costs nothing and learns nothing.
            onRequest: async (req: FastifyRequest, reply: FastifyReply) => {
              if (!sameSecret(req.headers[SECRET_HEADER], expected)) {
                log.warn('telegram webhook refused: wrong or missing secret token');
                return reply.code(401).send({ error: 'UNAUTHORIZED' });
              }
              return undefined;
            },
            handler: async (req, reply) => {
              try {
                const outcome = await handleUpdate(req.body);
                return reply.code(200).send({ ok: true, outcome });
              } catch (err) {
                // Telegram redelivers on a non-2xx: the update is kept, not lost.
                log.error({ err }, 'could not store a telegram update; Telegram will redeliver it');
                return reply.code(500).send({ error: 'RETRY' });
              }
            },
          });
        });
      };
    }
    return channel;
  };
}
