import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { messengerChannel } from './messenger/index.js';
import { telegramChannel } from './telegram/index.js';
import type { ChannelFactory } from './types.js';
import { whatsappCloudChannel } from './whatsapp-cloud/index.js';
import { whatsappWebChannel } from './whatsapp-web/index.js';

/** The platform channels the environment switches on, and a line per channel for the start-up log. */
export interface ConfiguredChannels {
  factories: ChannelFactory[];
  summary: string[];
}

/** The settings of one channel: all present (on), all absent (off), or some missing (an error naming them). */
function settings<K extends keyof Config>(config: Config, channel: string, keys: readonly K[]): boolean {
  const missing = keys.filter((k) => config[k] === undefined);
  if (missing.length === keys.length) return false;
  if (missing.length > 0) {
    throw new AppError('CONFIG_INVALID', [
      `${channel} needs ${missing.join(', ')} as well (or none of its settings)`,
    ]);
  }
  return true;
}

/**
 * Builds the platform channels from the environment. A channel whose settings are all absent is off; one
 * with some of them set is a configuration error that names what is missing.
 *
 * @example
 * const { factories, summary } = channelsFromConfig(config, log);
 */
export function channelsFromConfig(config: Config, log: Logger): ConfiguredChannels {
  const factories: ChannelFactory[] = [];
  const summary: string[] = [];

  if (settings(config, 'Telegram', ['TELEGRAM_BOT_TOKEN'])) {
    const token = config.TELEGRAM_BOT_TOKEN ?? '';
    const webhook =
      config.PUBLIC_URL && config.TELEGRAM_WEBHOOK_SECRET
        ? { publicUrl: config.PUBLIC_URL, secret: config.TELEGRAM_WEBHOOK_SECRET }
        : undefined;
    if (config.PUBLIC_URL && !config.TELEGRAM_WEBHOOK_SECRET) {
      throw new AppError('CONFIG_INVALID', [
        'Telegram webhook mode (PUBLIC_URL is set) needs TELEGRAM_WEBHOOK_SECRET',
      ]);
    }
    factories.push(
      telegramChannel({
        token,
        log,
        ...(config.TELEGRAM_API_ROOT ? { apiRoot: config.TELEGRAM_API_ROOT } : {}),
        ...(webhook ? { webhook } : {}),
      }),
    );
    summary.push(webhook ? 'telegram: webhook at /webhooks/telegram' : 'telegram: long polling');
  }

  if (config.WHATSAPP_WEB === '1') {
    // The session's local working copy sits beside the embedded database; MongoDB holds the backup.
    factories.push(
      whatsappWebChannel({
        chromiumPath: config.CHROMIUM_PATH,
        dataPath: join(config.DATA_DIR, 'wwebjs'),
        log,
      }),
    );
    summary.push(`whatsapp-web: Chromium at ${config.CHROMIUM_PATH} (scan the QR printed below)`);
  }

  const cloudKeys = [
    'WHATSAPP_TOKEN',
    'WHATSAPP_PHONE_NUMBER_ID',
    'WHATSAPP_APP_SECRET',
    'WHATSAPP_VERIFY_TOKEN',
  ] as const;
  if (settings(config, 'WhatsApp Cloud API', cloudKeys)) {
    factories.push(
      whatsappCloudChannel({
        token: config.WHATSAPP_TOKEN ?? '',
        phoneNumberId: config.WHATSAPP_PHONE_NUMBER_ID ?? '',
        appSecret: config.WHATSAPP_APP_SECRET ?? '',
        verifyToken: config.WHATSAPP_VERIFY_TOKEN ?? '',
        updateTemplate: config.WHATSAPP_UPDATE_TEMPLATE,
        graphRoot: config.GRAPH_API_ROOT,
        graphVersion: config.GRAPH_API_VERSION,
        log,
      }),
    );
    summary.push('whatsapp (Cloud API): webhook at /webhooks/whatsapp');
  }

  const messengerKeys = ['MESSENGER_PAGE_TOKEN', 'MESSENGER_APP_SECRET', 'MESSENGER_VERIFY_TOKEN'] as const;
  if (settings(config, 'Messenger', messengerKeys)) {
    factories.push(
      messengerChannel({
        pageToken: config.MESSENGER_PAGE_TOKEN ?? '',
        appSecret: config.MESSENGER_APP_SECRET ?? '',
        verifyToken: config.MESSENGER_VERIFY_TOKEN ?? '',
        graphRoot: config.GRAPH_API_ROOT,
        graphVersion: config.GRAPH_API_VERSION,
        log,
      }),
    );
    summary.push('messenger: webhook at /webhooks/messenger');
  }
  return { factories, summary };
}
