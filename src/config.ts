import { z } from 'zod';
import { AppError } from './errors.js';

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
