import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type * as Wweb from 'whatsapp-web.js';
import type { AuthStrategy, Store } from 'whatsapp-web.js';

/**
 * whatsapp-web.js, loaded the first time a real client or its session store is made. It brings
 * puppeteer, archiver, unzipper and fluent-ffmpeg (over five hundred modules): an instance that does
 * not run this channel should neither wait for them at start nor keep them in its heap.
 */
function wweb(): typeof Wweb {
  const loaded: typeof Wweb = createRequire(import.meta.url)('whatsapp-web.js');
  return loaded;
}

/**
 * The part of whatsapp-web.js's `Client` this channel uses. The real `Client` satisfies it
 * structurally (see {@link createRealClient}); tests pass a fake object with the same shape, so the
 * adapter runs unchanged without a browser or a WhatsApp account. Event payloads are `unknown` on
 * purpose: they come from a scraped web page and are parsed with zod at the edge.
 */
export interface WwebClientLike {
  on(event: 'qr', listener: (qr: string) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  on(event: 'auth_failure', listener: (message: string) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnected', listener: (reason: unknown) => void): unknown;
  initialize(): Promise<void>;
  destroy(): Promise<void>;
  sendMessage(chatId: string, content: string, options?: { linkPreview?: boolean }): Promise<unknown>;
}

/** Builds a client around an auth strategy (RemoteAuth in production, anything in tests). */
export type WwebClientFactory = (authStrategy: AuthStrategy) => WwebClientLike;

/**
 * Chromium flags: `--no-sandbox` because the service runs as root in a container (Chromium refuses to
 * start sandboxed as root); the rest keep a headless browser small on a server without a GPU.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-setuid-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
] as const;

/** Where RemoteAuth unpacks the session while the browser runs (the durable copy is in MongoDB). */
export const DEFAULT_SESSION_DIR = '.wwebjs_auth';

/** RemoteAuth refuses anything shorter than a minute between session backups. */
export const MIN_BACKUP_SYNC_MS = 60_000;

export interface RemoteAuthOptions {
  store: Store;
  /** Distinguishes several WhatsApp numbers served from one database ([-_A-Za-z0-9]+). */
  clientId: string;
  /** Local working copy of the browser profile; must be the directory the store reads zips from. */
  dataPath: string;
  backupSyncIntervalMs?: number;
}

/** whatsapp-web.js's RemoteAuth: the browser profile is zipped into `store`, so a restart needs no QR. */
export function createRemoteAuth(opts: RemoteAuthOptions): AuthStrategy {
  return new (wweb().RemoteAuth)({
    store: opts.store,
    clientId: opts.clientId,
    dataPath: resolve(opts.dataPath),
    backupSyncIntervalMs: Math.max(opts.backupSyncIntervalMs ?? 5 * 60_000, MIN_BACKUP_SYNC_MS),
  });
}

/**
 * The real client: whatsapp-web.js driving the operator's Chromium (never a downloaded one: the repo's
 * .puppeteerrc.cjs skips puppeteer's download). Nothing starts until `initialize()`.
 */
export function createRealClient(chromiumPath: string, authStrategy: AuthStrategy): WwebClientLike {
  return new (wweb().Client)({
    authStrategy,
    puppeteer: { executablePath: chromiumPath, headless: true, args: [...CHROMIUM_ARGS] },
  });
}
