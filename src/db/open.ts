import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { openDatabase, type Db } from './connection.js';
import { startEmbeddedMongo, type EmbeddedMongo } from './embedded/index.js';
import { isAlive } from './embedded/journal.js';
import { AppError } from '../errors.js';

export interface OpenedDatabase {
  db: Db;
  /** The embedded server, when no MONGODB_URI was given. */
  embedded?: EmbeddedMongo;
  close(): Promise<void>;
}

/**
 * Connects to MONGODB_URI when set, else starts the embedded MongoDB-compatible server on `dataDir`
 * (or in memory when `dataDir` is null: the terminal chat's throwaway mode).
 *
 * The embedded server runs in a worker thread, so that its command handling and the app's turns
 * use both cores; `embeddedThread: false` (EMBEDDED_DB_THREAD=0 in the app) keeps it on the app's thread,
 * for single-thread profiles and A/B load measurements.
 */
export async function openConfiguredDatabase(
  opts: { mongodbUri: string | undefined; dataDir: string | null; embeddedThread?: boolean },
  log: Logger,
): Promise<OpenedDatabase> {
  if (opts.mongodbUri) {
    try {
      const db = await openDatabase(opts.mongodbUri);
      return { db, close: () => db.close() };
    } catch (err) {
      throw new AppError('DB_UNREACHABLE', [opts.mongodbUri.replace(/\/\/[^@/]*@/, '//***@')], {
        cause: err,
      });
    }
  }
  if (opts.dataDir !== null) mkdirSync(opts.dataDir, { recursive: true });
  const embedded = await startEmbeddedMongo({
    ...(opts.dataDir !== null ? { dir: opts.dataDir } : {}),
    logger: (msg) => log.info({ component: 'embedded-mongo' }, msg),
    thread: opts.embeddedThread ?? true,
    // Only this process talks to it: over a Unix socket each command costs less than over TCP.
    ...(process.platform === 'win32' ? {} : { socketPath: embeddedSocketPath() }),
    onCrash: (err) => {
      // In-thread this would have crashed the process. Nothing can be stored or answered without the
      // database, so stop, and let the supervisor restart on the same folder (acknowledged writes are on disk).
      log.fatal({ err, component: 'embedded-mongo' }, 'embedded database thread stopped; exiting');
      process.exit(1);
    },
  });
  const db = await openDatabase(embedded.uri, { dbName: 'civic' });
  return {
    db,
    embedded,
    async close() {
      await db.close();
      await embedded.close();
    },
  };
}

/**
 * A socket path of this process's own in the temp folder. A process that was killed leaves its
 * socket file behind (a clean stop removes it): files named after a process that is gone are
 * removed here first, so they do not pile up across crashes.
 */
function embeddedSocketPath(): string {
  const dir = tmpdir();
  for (const name of readdirSync(dir)) {
    const pid = /^civic-db-(\d+)-[0-9a-f]{8}\.sock$/.exec(name)?.[1];
    if (pid !== undefined && !isAlive(Number(pid))) rmSync(join(dir, name), { force: true });
  }
  return join(dir, `civic-db-${process.pid}-${randomUUID().slice(0, 8)}.sock`);
}
