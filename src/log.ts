import pino, { stdSerializers, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { maskLogObject, maskPersonalData } from './privacy/mask.js';

/**
 * Paths never written to logs: secrets, and personal data a citizen or official gave us. Callers log
 * ids and counts; these paths catch what slips through, and {@link createLogger} masks phone numbers,
 * e-mails and ID numbers in whatever free text remains (messages, error texts).
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
  'req.headers["x-telegram-bot-api-secret-token"]',
  'req.headers["x-hub-signature-256"]',
  // A client's IP address is personal data; login throttling keeps it in memory, not in logs.
  'req.remoteAddress',
  'text',
  '*.text',
  'caption',
  '*.caption',
  'description',
  'activity.text',
  'activity.location',
  'activity.userName',
  'address.userId',
  'address.chatId',
  '*.address.userId',
  '*.address.chatId',
  'userId',
  'chatId',
  // WhatsApp Web message ids embed the sender's phone number.
  'platformMessageId',
  'email',
  '*.email',
  'phone',
  '*.phone',
];

/** An error as logged: its kind, code and masked texts, without the properties drivers attach (key values, documents). */
function errSerializer(err: unknown): unknown {
  if (!(err instanceof Error)) return typeof err === 'string' ? maskPersonalData(err) : err;
  const base = stdSerializers.err(err);
  const code: unknown = 'code' in err ? err.code : undefined;
  return {
    type: base.type,
    message: maskPersonalData(base.message),
    ...(base.stack ? { stack: maskPersonalData(base.stack) } : {}),
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
  };
}

/** The logger options every process uses: redaction by path, then masking of free text. */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: errSerializer, error: errSerializer },
    formatters: { log: maskLogObject },
    hooks: {
      // The message string (and any printf arguments) is free text: mask it like the fields.
      logMethod(args, method) {
        args.forEach((a: unknown, i) => {
          if (typeof a === 'string') args[i] = maskPersonalData(a);
        });
        method.apply(this, args);
      },
    },
  };
}

/** The application logger (pino), with redaction of secrets and personal data. */
export function createLogger(
  level: string = process.env.LOG_LEVEL ?? 'info',
  destination?: DestinationStream,
): Logger {
  const options = loggerOptions(level);
  return destination ? pino(options, destination) : pino(options);
}
