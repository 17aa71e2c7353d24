import { openDatabase, type Db } from '../../src/db/connection.js';
import { startFakeTelegram, type FakeTelegram } from '../../test/fakes/telegram.js';
import { postUpdate, startBot, textUpdate, watchSends, type BotProcess } from '../bench-load.js';

export { postUpdate, textUpdate };

/** A fault run's world: the fake Bot API, the bot in a child process, and what reached each chat. */
export interface Rig {
  fake: FakeTelegram;
  bot: BotProcess;
  /** Texts each chat received, in arrival order. */
  received: Map<string, string[]>;
  /** Restarts the bot (same environment, so the same data dir), e.g. after a SIGKILL. */
  restart(): Promise<void>;
  /** A connection to the bot's database (reopened by `restart`). */
  db(): Promise<Db>;
  close(): Promise<void>;
}

/** Starts the fake and the bot (keyword model unless `env` says otherwise; pacing off, as Telegram's is not the subject). */
export async function startRig(env: Record<string, string> = {}): Promise<Rig> {
  const fake = await startFakeTelegram('123456:BENCH-token');
  const botEnv = {
    BENCH_API_ROOT: fake.apiRoot,
    BENCH_NLU: 'keywords',
    LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'error',
    BENCH_PER_CHAT_MS: '1',
    BENCH_GLOBAL_PER_S: '5000',
    ...env,
  };
  const received = new Map<string, string[]>();
  watchSends(fake, (chatId, text) => received.set(chatId, [...(received.get(chatId) ?? []), text]));
  let bot = await startBot('app', botEnv);
  let db: Db | undefined;
  const rig: Rig = {
    fake,
    get bot() {
      return bot;
    },
    received,
    async restart() {
      await db?.close();
      db = undefined;
      bot = await startBot('app', botEnv);
    },
    async db() {
      db ??= await openDatabase(bot.dbUri, { dbName: 'civic' });
      return db;
    },
    async close() {
      await db?.close();
      await bot.stop();
      await fake.close();
    },
  };
  return rig;
}

/** Polls `check` until it holds or `ms` pass; says which. */
export async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** Runs `main` when the file is the process's entry point, printing its counts as JSON; exit 1 if not ok. */
export async function runAsScript(url: string, main: () => Promise<{ ok: boolean }>): Promise<void> {
  const { fileURLToPath } = await import('node:url');
  if (!process.argv[1] || fileURLToPath(url) !== process.argv[1]) return;
  const result = await main();
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exit(result.ok ? 0 : 1);
}
