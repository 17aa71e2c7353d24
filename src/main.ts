// Wiring only: config → database → intent model → engine → channels → http.
// First, so that mongoose and the driver load with their object spreads written out (see lowered-spread.ts).
import './db/lowered-spread.js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { createApp } from './app.js';
import { startSlaSweeper } from './cases/sla.js';
import { ensureAdmin } from './console/auth.js';
import { channelsFromConfig } from './channels/from-config.js';
import { loadConfig } from './config.js';
import { openConfiguredDatabase } from './db/open.js';
import { createLogger } from './log.js';
import { startNluThread } from './nlu/threaded.js';
import { retentionPolicy, startRetentionSweeper } from './privacy/retention.js';

function fail(err: unknown): never {
  // A start-up failure is an operator's problem to fix: say what, without a stack trace to wade through.
  process.stderr.write(`Cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

const config = (() => {
  try {
    return loadConfig();
  } catch (err) {
    return fail(err);
  }
})();
const log = createLogger(config.LOG_LEVEL);

const database = await openConfiguredDatabase(
  {
    mongodbUri: config.MONGODB_URI,
    dataDir: config.DATA_DIR,
    embeddedThread: config.EMBEDDED_DB_THREAD === '1',
  },
  log,
).catch(fail);
log.info(
  config.MONGODB_URI
    ? 'connected to MongoDB'
    : `embedded database in ${config.DATA_DIR} (${database.embedded?.uri ?? ''})`,
);
const admin = await ensureAdmin(database.db, {
  email: config.CONSOLE_ADMIN_EMAIL,
  password: config.CONSOLE_ADMIN_PASSWORD,
});
if (admin.created && admin.generatedPassword) {
  // Printed once, on the operator's terminal only (never logged): change it after the first login.
  process.stdout.write(`Console admin ${admin.email}, password (shown once): ${admin.generatedPassword}\n`);
}
const channels = (() => {
  try {
    return channelsFromConfig(config, log);
  } catch (err) {
    return fail(err);
  }
})();
// The intent model runs in its own thread (trained there on the first start); without it the bot is deaf.
const nlu = await startNluThread({ cacheDir: config.NLU_CACHE_DIR }, (err) => {
  log.fatal({ err, component: 'nlu' }, 'intent model thread stopped; exiting');
  process.exit(1);
}).catch(fail);
const app = await createApp({
  db: database.db,
  nlu,
  log,
  officeHours: config.OFFICE_HOURS,
  timeZone: config.TIMEZONE,
  channels: channels.factories,
  publicUrl: config.PUBLIC_URL,
  trustProxy: config.TRUST_PROXY === '1',
});
await app.start();
// Personal data of closed cases is erased after its retention period; one instance sweeps at a time (lease).
const instance = `${hostname()}:${process.pid}:${randomUUID()}`;
// Overdue cases are marked and raised in priority once a minute; supervisors see them in the console.
const sla = startSlaSweeper(database.db, {
  owner: instance,
  onOverdue: (cases) => log.info({ overdue: cases.length }, 'cases became overdue'),
  onError: (err) => log.error({ err }, 'SLA sweep failed'),
});
const retention = startRetentionSweeper(database.db, {
  owner: instance,
  policy: retentionPolicy(config),
  onSweep: (report) => log.info(report, 'retention sweep'),
  onError: (err) => log.error({ err }, 'retention sweep failed'),
});
const address = await app.http.listen({ host: config.HOST, port: config.PORT });
log.info(`web chat: ${address}/chat`);
log.info(
  channels.summary.length > 0
    ? `channels on: web chat; ${channels.summary.join('; ')}`
    : 'channels on: web chat only (set TELEGRAM_BOT_TOKEN, WHATSAPP_* or MESSENGER_* to add platforms)',
);
process.stdout.write(
  `\nCivic chatbot is running.\n  Web chat: ${address}/chat\n  Console:  ${address}/console\n\n`,
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  await sla.stop();
  await retention.stop();
  await app.stop();
  await nlu.close();
  await database.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
