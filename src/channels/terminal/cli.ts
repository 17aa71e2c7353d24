// `npm run chat`: the whole bot in a terminal, over a throwaway in-memory database (or MONGODB_URI).
import { createInterface } from 'node:readline/promises';
import { randomUUID } from 'node:crypto';
import { createApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { openConfiguredDatabase } from '../../db/open.js';
import type { Address } from '../../engine/activity.js';
import type { ChannelSender } from '../../engine/outbox.js';
import { toPlainText, type Reply } from '../../engine/replies.js';
import { createLogger } from '../../log.js';
import { loadIntentModel } from '../../nlu/index.js';

/** Prints replies as the most basic platform would: text, with choices as numbered lines. */
class TerminalSender implements ChannelSender {
  async send(_address: Address, reply: Reply): Promise<{ platformMessageId: string }> {
    process.stdout.write(
      `\n${toPlainText(reply)
        .split('\n')
        .map((line) => `  bot> ${line}`)
        .join('\n')}\n`,
    );
    return { platformMessageId: randomUUID() };
  }
}

const config = loadConfig();
const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
const database = await openConfiguredDatabase({ mongodbUri: config.MONGODB_URI, dataDir: null }, log);
process.stdout.write('Loading the intent model…\n');
const nlu = await loadIntentModel({ cacheDir: config.NLU_CACHE_DIR });
const app = await createApp({
  db: database.db,
  nlu,
  log,
  officeHours: config.OFFICE_HOURS,
  timeZone: config.TIMEZONE,
  senders: { terminal: new TerminalSender() },
});
await app.start();

const user = `terminal-${process.pid}`;
const address: Address = { channel: 'terminal', userId: user, chatId: user };
const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
process.stdout.write('Type a message (in any of en, fr, es, ar, ru, zh); Ctrl+D to quit.\n');
let n = 0;
for await (const line of rl) {
  const text = line.trim();
  if (text === '') continue;
  n += 1;
  await app.engine.receive({ address, platformMessageId: `${user}-${n}`, at: new Date(), text });
  await app.engine.idle();
  await app.outbox.idle();
}
await app.stop();
await database.close();
