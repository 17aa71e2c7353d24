import pino, { type Logger } from 'pino';
import { createApp, type App } from '../../src/app.js';
import type { ChannelFactory } from '../../src/channels/types.js';
import { openDatabase, type Db } from '../../src/db/connection.js';
import type { Address } from '../../src/engine/activity.js';
import type { Understanding } from '../../src/nlu/understand.js';
import type { InboxOptions } from '../../src/engine/inbox.js';
import type { ChannelSender } from '../../src/engine/outbox.js';
import type { Reply } from '../../src/engine/replies.js';
import type { Classification, Lang } from '../../src/nlu/catalog.js';

/**
 * An intent model that greets back every message and counts how often each text was classified:
 * a text classified twice means a turn ran twice.
 */
export class CountingNlu implements Understanding {
  readonly seen = new Map<string, number>();
  classify(text: string, opts?: { lang?: Lang }): Classification {
    this.seen.set(text, (this.seen.get(text) ?? 0) + 1);
    return { text, intent: 'greet', score: 1, lang: opts?.lang ?? 'en', references: [] };
  }
  detectLanguage(): Lang {
    return 'en';
  }
}

/** One delivered reply: to whom, and which turn (`turn:<inboxId>:<n>`) produced it. */
export interface Delivery {
  chatId: string;
  key: string;
  reply: Reply;
}

/** A platform shared by every app instance, recording deliveries in the order they happened. */
export class RecordingPlatform implements ChannelSender {
  readonly deliveries: Delivery[] = [];
  async send(address: Address, reply: Reply, idempotencyKey: string): Promise<{ platformMessageId: string }> {
    this.deliveries.push({ chatId: address.chatId, key: idempotencyKey, reply });
    return { platformMessageId: `p${this.deliveries.length}` };
  }
  to(chatId: string): Delivery[] {
    return this.deliveries.filter((d) => d.chatId === chatId);
  }
}

export interface Instance {
  app: App;
  db: Db;
  stop(): Promise<void>;
}

/** One app instance over the database at `uri`, as main.ts would build it, sending to `platform`. */
export async function startInstance(
  uri: string,
  nlu: Understanding,
  platform: ChannelSender,
  inbox: InboxOptions = {},
  extra: { log?: Logger; channels?: ChannelFactory[] } = {},
): Promise<Instance> {
  const db = await openDatabase(uri);
  const app = await createApp({
    db,
    nlu,
    log: extra.log ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    ...(extra.channels ? { channels: extra.channels } : {}),
    officeHours: 'Mon-Sun 00:00-23:59',
    timeZone: 'UTC',
    senders: { test: platform },
    outbox: { baseDelayMs: 20, maxDelayMs: 200, pollMs: 50 },
    inbox: { retryDelayMs: 10, pollMs: 100, staleMs: 200, ...inbox },
  });
  await app.start();
  return {
    app,
    db,
    async stop() {
      await app.stop();
      await db.close();
    },
  };
}

/** Polls `check` until it holds, or throws after `ms`. */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
