import { z } from 'zod';
import { AppError } from './errors.js';
import { retentionConfigSchema } from './privacy/retention.js';

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** A real MongoDB; when unset the embedded server runs on DATA_DIR. */
  MONGODB_URI: optionalString,
  DATA_DIR: z.string().default('./data'),
  /** 0 runs the embedded server on the app's thread (single-thread profiles); 1, the default, on its own. */
  EMBEDDED_DB_THREAD: z.enum(['0', '1']).default('1'),
  /** Where the trained intent model is cached. */
  NLU_CACHE_DIR: z.string().default('./.cache/nlu'),
  /** Public https URL of this server, for platform webhooks. */
  PUBLIC_URL: optionalString.pipe(z.url().optional()),
  /** Office hours of the officials, e.g. "Mon-Fri 08:00-17:00", in TIMEZONE. */
  OFFICE_HOURS: z
    .string()
    .regex(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)-(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d:\d\d-\d\d:\d\d$/)
    .default('Mon-Fri 08:00-17:00'),
  TIMEZONE: z.string().default('UTC'),
  /** Set to 1 behind a reverse proxy, so client addresses come from X-Forwarded-For. */
  TRUST_PROXY: z.enum(['0', '1']).default('0'),
  /** RETENTION_DAYS, RETENTION_DAYS_BY_CATEGORY ("corruption=730,suggestion=90"), MESSAGE_RETENTION_DAYS. */
  ...retentionConfigSchema,
  /** The first console admin (created once; a password is generated and printed when this is unset). */
  CONSOLE_ADMIN_EMAIL: optionalString.pipe(z.email().optional()),
  CONSOLE_ADMIN_PASSWORD: optionalString,

  // Channels: a channel whose settings are absent is off (main.ts logs which are on).
  TELEGRAM_BOT_TOKEN: optionalString,
  /** Another Bot API server: Telegram's self-hosted one, or a test fake. */
  TELEGRAM_API_ROOT: optionalString.pipe(z.url().optional()),
  /** Telegram's secret_token for webhook mode (required with PUBLIC_URL). */
  TELEGRAM_WEBHOOK_SECRET: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{16,256}$/, 'use 16-256 characters of A-Z, a-z, 0-9, _ and -')
      .optional(),
  ),
  WHATSAPP_WEB: z.enum(['0', '1']).default('0'),
  CHROMIUM_PATH: z.string().default('/usr/bin/chromium'),
  WHATSAPP_TOKEN: optionalString,
  WHATSAPP_PHONE_NUMBER_ID: optionalString,
  WHATSAPP_APP_SECRET: optionalString,
  WHATSAPP_VERIFY_TOKEN: optionalString,
  /** Template sent for case updates outside WhatsApp's 24-hour window (approved in Meta's manager). */
  WHATSAPP_UPDATE_TEMPLATE: z.string().default('case_update'),
  MESSENGER_PAGE_TOKEN: optionalString,
  MESSENGER_APP_SECRET: optionalString,
  MESSENGER_VERIFY_TOKEN: optionalString,
  /** The Graph API host for the Meta channels (a test fake in tests). */
  GRAPH_API_ROOT: z.url().default('https://graph.facebook.com'),
  GRAPH_API_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/)
    .default('v21.0'),
});

export type Config = Readonly<z.infer<typeof schema>>;

/**
 * Parses the environment once, with one clear message per wrong value, and freezes the result.
 *
 * @example
 * const config = loadConfig(process.env); // throws AppError CONFIG_INVALID naming each bad variable
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AppError('CONFIG_INVALID', [problems]);
  }
  return Object.freeze(parsed.data);
}
