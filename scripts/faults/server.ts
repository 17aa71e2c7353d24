// A bot process for the load benchmark and the fault scripts, driven by a parent over IPC:
//   node --import tsx scripts/faults/server.ts <mode> (mode: app | echo)
// Settings come from the environment (below). It prints nothing on stdout but sends the parent
// { ready: port } once listening, and { rss } every 250 ms (for the peak RSS).
// First, as in src/main.ts: mongoose and the driver load with their object spreads written out.
import '../../src/db/lowered-spread.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Telegraf } from 'telegraf';
import { createApp } from '../../src/app.js';
import { telegramChannel } from '../../src/channels/telegram/index.js';
import { openConfiguredDatabase } from '../../src/db/open.js';
import { createLogger } from '../../src/log.js';
import type { Understanding } from '../../src/nlu/understand.js';
import type { IntentOrNone } from '../../src/nlu/catalog.js';
import { startNluThread } from '../../src/nlu/threaded.js';

/**
 * A stand-in intent model for the fault scripts (BENCH_NLU=keywords): deterministic, no training,
 * so a fault run checks the pipeline, not the model.
 */
const KEYWORDS: [RegExp, IntentOrNone][] = [
  [/\bhours?\b/i, 'office.hours'],
  [/\bpassport\b/i, 'service.passport'],
  [/\b(agent|person|human)\b/i, 'agent.human'],
  [/\bthanks?\b/i, 'thanks'],
  [/\bbye\b/i, 'bye'],
  [/\b(hello|hi)\b/i, 'greet'],
];
const keywordModel: Understanding = {
  classify: (text, opts) => ({
    text,
    intent: KEYWORDS.find(([re]) => re.test(text))?.[1] ?? 'help',
    score: 1,
    lang: opts?.lang ?? 'en',
    references: [],
  }),
  detectLanguage: () => 'en',
};

const env = process.env;
const mode = process.argv[2] ?? 'app';
const token = env['BENCH_TOKEN'] ?? '123456:BENCH-token';
const apiRoot = env['BENCH_API_ROOT'] ?? '';
const secret = env['BENCH_SECRET'] ?? 'bench-webhook-secret_0123456789';
const report = (message: Record<string, unknown>): void => {
  if (process.send) process.send(message);
};
setInterval(() => report({ rss: process.memoryUsage().rss }), 250).unref();

if (mode === 'echo') {
  // The ceiling: a bare telegraf bot that echoes each text, on the same webhook path and fake API.
  const bot = new Telegraf(token, { telegram: { apiRoot, webhookReply: false } });
  bot.on('message', async (ctx) => {
    if ('text' in ctx.message) await ctx.reply(ctx.message.text);
  });
  const callback = bot.webhookCallback('/webhooks/telegram', { secretToken: secret });
  const server = createServer((req, res) => void callback(req, res));
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => report({ ready: (server.address() as AddressInfo).port }));
} else {
  const log = createLogger(env['LOG_LEVEL'] ?? 'warn');
  const dataDir = env['BENCH_DATA_DIR'] ?? null;
  const database = await openConfiguredDatabase(
    { mongodbUri: env['MONGODB_URI'], dataDir, embeddedThread: env['EMBEDDED_DB_THREAD'] !== '0' },
    log,
  );
  const modelPath = env['BENCH_MODEL'];
  // As main.ts runs it: the intent model in its own thread.
  const nlu =
    env['BENCH_NLU'] === 'keywords'
      ? keywordModel
      : await startNluThread(modelPath ? { modelPath } : {}, (err) => {
          log.fatal({ err }, 'intent model thread stopped');
          process.exit(1);
        });
  const app = await createApp({
    db: database.db,
    nlu,
    log,
    officeHours: 'Mon-Sun 00:00-23:59',
    timeZone: 'UTC',
    channels: [
      telegramChannel({
        token,
        apiRoot,
        webhook: { publicUrl: 'https://bot.example.gov/', secret },
        // Telegram's own limits: one message a second per chat; 1000/s overall is what it allows
        // paid broadcasts (30/s free), the most a busy public-service bot could be granted.
        limits: {
          perChatIntervalMs: Number(env['BENCH_PER_CHAT_MS'] ?? 1000),
          globalPerSecond: Number(env['BENCH_GLOBAL_PER_S'] ?? 1000),
        },
      }),
    ],
  });
  await app.start();
  const address = await app.http.listen({ host: '127.0.0.1', port: Number(env['BENCH_PORT'] ?? 0) });
  report({ ready: Number(new URL(address).port), dbUri: database.embedded?.uri ?? env['MONGODB_URI'] ?? '' });
  process.on('SIGTERM', () => {
    void (async () => {
      await app.stop();
      await database.close();
      process.exit(0);
    })();
  });
}
