import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Channel, ChannelFactory } from './channels/types.js';
import { isWhatsappWebChannel } from './channels/whatsapp-web/index.js';
import { WebChatSender } from './channels/web/index.js';
import type { Db } from './db/connection.js';
import type { Activity, ChannelId } from './engine/activity.js';
import { dbServices } from './engine/db-services.js';
import { Engine } from './engine/engine.js';
import { asUnderstander, type Understander, type Understanding } from './nlu/understand.js';
import type { InboxOptions } from './engine/inbox.js';
import { Outbox, type ChannelSender, type OutboxOptions } from './engine/outbox.js';
import type { Services } from './engine/services.js';
import { consoleRoutes } from './console/routes.js';
import { privacyRoutes } from './privacy/routes.js';
import { transparencyRoutes } from './privacy/transparency.js';
import { buildHttp } from './http/build.js';
import { CaseNotifier } from './engine/notifications.js';
import { loadTranslator, type Translator } from './i18n/index.js';

export interface AppOptions {
  db: Db;
  /** The intent model, run in this thread, or an understander (e.g. the model in its own thread). */
  nlu: Understanding | Understander;
  log: Logger;
  officeHours: string;
  timeZone: string;
  /** Platform channels (Telegram, WhatsApp, Messenger…), built once the context exists. */
  channels?: ChannelFactory[];
  /** Bare senders for channels without inbound routes (the terminal chat, tests). */
  senders?: Partial<Record<ChannelId, ChannelSender>>;
  /** PUBLIC_URL: makes the console's session cookie Secure behind a TLS-terminating proxy. */
  publicUrl?: string | undefined;
  /** Trust X-Forwarded-* from a reverse proxy (for client addresses in login throttling). */
  trustProxy?: boolean;
  outbox?: OutboxOptions;
  inbox?: InboxOptions;
  clock?: () => Date;
}

/** The assembled product, not yet started: main.ts, the terminal chat and tests all build it this way. */
export interface App {
  engine: Engine;
  outbox: Outbox;
  services: Services;
  /** Tells citizens what happens to their cases (officials' answers, status changes). */
  notifier: CaseNotifier;
  i18n: Translator;
  http: FastifyInstance;
  channels: Channel[];
  /** Starts the dispatcher and the channels, and picks up messages accepted before a restart. */
  start(): Promise<void>;
  /** Finishes in-flight turns and sends, then stops (the database is the caller's to close). */
  stop(): Promise<void>;
}

/**
 * Wires engine, outbox, channels and HTTP over an open database and a loaded intent model.
 *
 * @example
 * const app = await createApp({ db, nlu, log, officeHours: 'Mon-Fri 08:00-17:00', timeZone: 'UTC' });
 * await app.start();
 */
export async function createApp(opts: AppOptions): Promise<App> {
  const i18n = loadTranslator();
  const services = dbServices(opts.db, { officeHours: opts.officeHours, timeZone: opts.timeZone });
  const outbox = new Outbox(opts.db, opts.log, opts.outbox);
  const engine = new Engine({
    db: opts.db,
    nlu: asUnderstander(opts.nlu),
    i18n,
    services,
    outbox,
    log: opts.log,
    timeZone: opts.timeZone,
    ...(opts.inbox ? { inbox: opts.inbox } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const webSender = new WebChatSender();
  outbox.register('web', webSender);
  for (const [channel, sender] of Object.entries(opts.senders ?? {}) as [ChannelId, ChannelSender][]) {
    outbox.register(channel, sender);
  }
  const receive = (a: Activity): Promise<'accepted' | 'duplicate'> => engine.receive(a);
  const channels: Channel[] = (opts.channels ?? []).map((make) =>
    make({ receive, db: opts.db, log: opts.log, i18n }),
  );
  for (const channel of channels) outbox.register(channel.id, channel.sender);
  const http = await buildHttp({
    log: opts.log,
    webChat: { receive, sender: webSender, outbox, db: opts.db, i18n },
    channels,
    ...(opts.trustProxy ? { trustProxy: true } : {}),
  });
  const notifier = new CaseNotifier(engine, opts.db, i18n);
  const whatsappWeb = channels.find(isWhatsappWebChannel);
  await consoleRoutes(http, {
    db: opts.db,
    notifier,
    i18n,
    publicUrl: opts.publicUrl,
    outbox,
    ...(whatsappWeb ? { whatsappQr: () => whatsappWeb.latestQr() } : {}),
  });
  const clock = opts.clock ? { clock: opts.clock } : {};
  await privacyRoutes(http, { db: opts.db, ...clock });
  await transparencyRoutes(http, { db: opts.db, i18n, ...clock });
  return {
    engine,
    outbox,
    services,
    notifier,
    i18n,
    http,
    channels,
    async start() {
      outbox.start();
      for (const channel of channels) await channel.start?.();
      const recovered = await engine.inbox.recover();
      if (recovered > 0) opts.log.info({ recovered }, 'resuming messages accepted before the restart');
    },
    async stop() {
      for (const channel of channels) await channel.stop?.();
      await http.close();
      engine.inbox.stop();
      await engine.idle();
      await outbox.idle();
      await outbox.stop();
    },
  };
}
