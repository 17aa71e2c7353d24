import pino, { type Logger } from 'pino';

/**
 * Paths never written to logs: secrets, and personal data a citizen or official gave us. Callers log
 * ids and counts; these paths catch what slips through.
 */
export const REDACT_PATHS = [
  'password',
  'token',
  'secret',
  '*.password',
  '*.token',
  '*.secret',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'text',
  '*.text',
  'activity.text',
  'activity.location',
  'address.userId',
  '*.address.userId',
];

/** The application logger (pino), with redaction of secrets and personal data. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}
