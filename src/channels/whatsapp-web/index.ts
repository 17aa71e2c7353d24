import type { Logger } from 'pino';
import { ZodError } from 'zod';
import type { Channel, ChannelContext, ChannelFactory } from '../types.js';
import {
  createRealClient,
  createRemoteAuth,
  DEFAULT_SESSION_DIR,
  type WwebClientFactory,
  type WwebClientLike,
} from './client.js';
import { parseWwebMessage } from './parse.js';
import { SendPacer, WwebSender, type RateLimit } from './sender.js';
import { MongoSessionStore } from './store.js';

export { CHROMIUM_ARGS, createRealClient, createRemoteAuth } from './client.js';
export type { WwebClientFactory, WwebClientLike } from './client.js';
export { parseWwebMessage } from './parse.js';
export { SendPacer, WwebSender, type RateLimit } from './sender.js';
export { MongoSessionStore, SESSION_BUCKET } from './store.js';

/** Where the WhatsApp Web login stands, for logs and the admin console. */
export type WwebStatus = 'stopped' | 'starting' | 'qr' | 'ready' | 'disconnected';

/** The WhatsApp Web channel: a {@link Channel} that also exposes its login state to admins. */
export interface WhatsappWebChannel extends Channel {
  id: 'whatsapp-web';
  /** The QR code string to scan while waiting for a login (undefined once logged in). */
  latestQr(): string | undefined;
  status(): WwebStatus;
  /** Resolves once every message event received so far has been handed to the engine (or logged). */
  idle(): Promise<void>;
}

export interface WhatsappWebOptions {
  /** Chromium to drive (Debian: /usr/bin/chromium); puppeteer never downloads one here. */
  chromiumPath: string;
  /** Builds the client; defaults to the real whatsapp-web.js `Client` (tests pass a fake). */
  clientFactory?: WwebClientFactory;
  log?: Logger;
  /** Called with every new QR string; by default it is printed on stdout for the operator. */
  onQr?: (qr: string) => void;
  /** Names the session in MongoDB; one per WhatsApp number (default "civic"). */
  clientId?: string;
  /** Local working copy of the browser profile (default ./.wwebjs_auth). */
  dataPath?: string;
  /** How often RemoteAuth re-uploads the session (≥ 60 000 ms; default 5 min). */
  backupSyncIntervalMs?: number;
  rateLimit?: RateLimit;
  /** Wait before a new client replaces a disconnected one (default 10 s). */
  reconnectDelayMs?: number;
  /** How many times a message is offered to the engine before it is given up (logged) (default 3). */
  receiveAttempts?: number;
  /** First delay between those attempts, doubled each time (default 1 s). */
  receiveRetryMs?: number;
}

/** whatsapp-web.js's terminal QR needs qrcode-terminal, which is not a dependency: print the string. */
function printQr(qr: string): void {
  process.stdout.write(
    `\nWhatsApp Web login: render this string as a QR code (e.g. \`qrencode -t ansiutf8 '<string>'\`) ` +
      `and scan it in WhatsApp > Linked devices:\n${qr}\n\n`,
  );
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The WhatsApp Web channel over whatsapp-web.js, for pilots. The session lives in MongoDB (RemoteAuth
 * with {@link MongoSessionStore}) so a restart needs no new QR; replies are paced and plain text.
 * Unofficial: WhatsApp may block numbers that use it; production belongs on the WhatsApp Cloud API channel.
 *
 * @example
 * const app = await createApp({ ..., channels: [whatsappWebChannel({ chromiumPath: '/usr/bin/chromium' })] });
 * const wa = app.channels.find(isWhatsappWebChannel);
 * wa?.latestQr();
 */
export function whatsappWebChannel(
  opts: WhatsappWebOptions,
): ChannelFactory & ((ctx: ChannelContext) => WhatsappWebChannel) {
  return (ctx: ChannelContext): WhatsappWebChannel => {
    const log = (opts.log ?? ctx.log).child({ channel: 'whatsapp-web' });
    const dataPath = opts.dataPath ?? DEFAULT_SESSION_DIR;
    const store = new MongoSessionStore(ctx.db.connection, dataPath);
    const makeClient = opts.clientFactory ?? ((auth) => createRealClient(opts.chromiumPath, auth));
    const onQr = opts.onQr ?? printQr;
    const attempts = Math.max(1, opts.receiveAttempts ?? 3);
    const retryMs = opts.receiveRetryMs ?? 1000;

    let client: WwebClientLike | undefined;
    let ready = false;
    let state: WwebStatus = 'stopped';
    let qr: string | undefined;
    let stopping = false;
    let reconnect: NodeJS.Timeout | undefined;
    const inFlight = new Set<Promise<void>>();

    async function handle(raw: unknown): Promise<void> {
      let parsed: ReturnType<typeof parseWwebMessage>;
      try {
        parsed = parseWwebMessage(raw);
      } catch (err) {
        log.warn(
          { issues: err instanceof ZodError ? err.issues : String(err) },
          'unreadable WhatsApp Web message',
        );
        return;
      }
      if ('ignored' in parsed) {
        log.debug({ reason: parsed.ignored }, 'WhatsApp Web message ignored');
        return;
      }
      // WhatsApp Web never redelivers an event, so a failing database gets a few tries before the loss is logged.
      for (let attempt = 1; ; attempt++) {
        try {
          await ctx.receive(parsed.activity);
          return;
        } catch (err) {
          if (attempt >= attempts || stopping) {
            log.error(
              { err, platformMessageId: parsed.activity.platformMessageId },
              'WhatsApp Web message could not be stored and is lost',
            );
            return;
          }
          await delay(retryMs * 2 ** (attempt - 1));
        }
      }
    }

    function launch(): void {
      const auth = createRemoteAuth({
        store,
        clientId: opts.clientId ?? 'civic',
        dataPath,
        ...(opts.backupSyncIntervalMs !== undefined
          ? { backupSyncIntervalMs: opts.backupSyncIntervalMs }
          : {}),
      });
      const current = makeClient(auth);
      client = current;
      ready = false;
      state = 'starting';
      // Listeners are scoped to this client: a replaced client's late events must not touch the new state.
      current.on('qr', (code) => {
        if (client !== current) return;
        qr = code;
        state = 'qr';
        log.info('WhatsApp Web is waiting for a QR scan');
        try {
          onQr(code);
        } catch (err) {
          log.warn({ err }, 'onQr handler failed');
        }
      });
      current.on('ready', () => {
        if (client !== current) return;
        qr = undefined;
        ready = true;
        state = 'ready';
        log.info('WhatsApp Web is logged in');
      });
      current.on('auth_failure', (message) => {
        log.error({ message }, 'WhatsApp Web login failed; a new QR scan is needed');
      });
      current.on('message', (raw) => {
        if (client !== current) return;
        const job = handle(raw).catch((err: unknown) =>
          log.error({ err }, 'WhatsApp Web message handler failed'),
        );
        inFlight.add(job);
        void job.finally(() => inFlight.delete(job));
      });
      current.on('disconnected', (reason) => {
        if (client !== current) return;
        ready = false;
        state = 'disconnected';
        log.warn({ reason: String(reason) }, 'WhatsApp Web disconnected');
        if (stopping) return;
        reconnect = setTimeout(() => {
          reconnect = undefined;
          void current
            .destroy()
            .catch((err: unknown) => log.warn({ err }, 'destroying the disconnected client failed'))
            .then(() => {
              if (!stopping) launch();
            });
        }, opts.reconnectDelayMs ?? 10_000);
      });
      // Not awaited: launching Chromium and loading WhatsApp takes long and must not hold up the server.
      current.initialize().catch((err: unknown) => {
        if (client !== current || stopping) return;
        state = 'disconnected';
        log.error({ err, chromiumPath: opts.chromiumPath }, 'WhatsApp Web client failed to start');
      });
    }

    return {
      id: 'whatsapp-web',
      sender: new WwebSender(() => (ready ? client : undefined), new SendPacer(opts.rateLimit)),
      async start() {
        stopping = false;
        launch();
      },
      async stop() {
        stopping = true;
        if (reconnect) clearTimeout(reconnect);
        const current = client;
        client = undefined;
        ready = false;
        state = 'stopped';
        await Promise.allSettled([...inFlight]);
        await current
          ?.destroy()
          .catch((err: unknown) => log.warn({ err }, 'WhatsApp Web client did not close cleanly'));
      },
      latestQr: () => qr,
      status: () => state,
      async idle() {
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      },
    };
  };
}

/** Finds the WhatsApp Web channel among an app's channels (for the admin console's QR view). */
export function isWhatsappWebChannel(channel: Channel): channel is WhatsappWebChannel {
  return channel.id === 'whatsapp-web' && 'latestQr' in channel;
}
