import pino from 'pino';
import { createApp, type App } from '../../src/app.js';
import { CollectingSender } from '../../src/channels/testing/collector.js';
import type { ChannelFactory } from '../../src/channels/types.js';
import { openDatabase, type Db } from '../../src/db/connection.js';
import type { Activity } from '../../src/engine/activity.js';
import type { Understanding } from '../../src/nlu/understand.js';
import { toPlainText, type Reply } from '../../src/engine/replies.js';
import { startTestMongo } from './mongo.js';
import { sharedIntentModel } from './nlu.js';

export interface TestBot {
  app: App;
  db: Db;
  collector: CollectingSender;
  /** Sends a message as `user` and returns the replies it produced, once delivered. */
  send(text: string, user?: string, extra?: Partial<Activity>): Promise<Reply[]>;
  /** Sends a raw activity (choice taps, locations, photos) and returns the replies. */
  sendActivity(activity: Partial<Activity> & { user?: string }): Promise<Reply[]>;
  /** Plain text of every reply `user` got so far. */
  transcript(user?: string): string[];
  /** Waits for the pipeline to settle (turns done, outbox drained). */
  settle(): Promise<void>;
  /** Stops the app and closes the database (state stays in the server until `stop`). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

let counter = 0;

/**
 * A whole bot over a real (embedded or TEST_MONGODB_URI) database and the real intent model, with a
 * collecting channel in place of a platform: the transcript tests' TestAdapter.
 */
export async function startTestBot(
  opts: { nlu?: Understanding; clock?: () => Date; officeHours?: string; channels?: ChannelFactory[] } = {},
): Promise<TestBot> {
  const mongo = await startTestMongo();
  const nlu = opts.nlu ?? (await sharedIntentModel());
  const collector = new CollectingSender();
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  let db = await openDatabase(mongo.uri);
  const build = async (): Promise<App> =>
    createApp({
      db,
      nlu,
      log,
      officeHours: opts.officeHours ?? 'Mon-Sun 00:00-23:59',
      timeZone: 'UTC',
      senders: { test: collector },
      ...(opts.channels ? { channels: opts.channels } : {}),
      outbox: { baseDelayMs: 20, maxDelayMs: 200, pollMs: 50 },
      inbox: { retryDelayMs: 10 },
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
  let app = await build();
  await app.start();

  const bot: TestBot = {
    get app() {
      return app;
    },
    get db() {
      return db;
    },
    collector,
    async sendActivity({ user = 'u1', ...rest }) {
      const before = collector.repliesTo(user).length;
      counter += 1;
      await app.engine.receive({
        address: { channel: 'test', userId: user, chatId: user },
        platformMessageId: `m${Date.now()}-${counter}`,
        at: new Date(),
        ...rest,
      });
      await bot.settle();
      return collector.repliesTo(user).slice(before);
    },
    send(text, user = 'u1', extra = {}) {
      return bot.sendActivity({ user, text, ...extra });
    },
    transcript(user = 'u1') {
      return collector.repliesTo(user).map(toPlainText);
    },
    async settle() {
      await app.engine.idle();
      await app.outbox.idle();
    },
    async restart() {
      await app.stop();
      await db.close();
      db = await openDatabase(mongo.uri);
      app = await build();
      await app.start();
    },
    async stop() {
      await app.stop();
      await db.close();
      await mongo.stop();
    },
  };
  return bot;
}
