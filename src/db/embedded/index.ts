import { Journal, recover } from './journal.js';
import { WireServer } from './server.js';
import { Store } from './store.js';

/** A running embedded server. */
export interface EmbeddedMongo {
  /** `mongodb://host:port/?directConnection=true`, usable by mongoose.connect and MongoClient. */
  uri: string;
  port: number;
  /** Stops listening, waits for pending journal writes and releases the data folder. */
  close(): Promise<void>;
}

/** Options of {@link startEmbeddedMongo}. */
export interface EmbeddedMongoOptions {
  /** Data folder for the durable journal; undefined keeps everything in memory (tests). */
  dir?: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; 127.0.0.1 by default. */
  host?: string;
  /** Receives operational lines (recovery warnings, malformed messages, compactions). */
  logger?: (msg: string) => void;
  /** How often TTL indexes are swept (MongoDB: 60 s). Default 10 s. */
  ttlIntervalMs?: number;
  /** Journal size that triggers compaction into a snapshot. Default 64 MiB. */
  compactAfterBytes?: number;
  /** Read through index lookup maps when a filter pins an index's first field (default true); false scans, for benchmarks. */
  indexLookups?: boolean;
}

/**
 * Starts a MongoDB-wire-compatible server in this process.
 *
 * @example
 * ```ts
 * const db = await startEmbeddedMongo({ dir: './data' });
 * await mongoose.connect(db.uri);
 * // …
 * await mongoose.disconnect();
 * await db.close();
 * ```
 */
export async function startEmbeddedMongo(opts: EmbeddedMongoOptions = {}): Promise<EmbeddedMongo> {
  const log = opts.logger ?? ((msg: string) => process.stderr.write(`[embedded-mongo] ${msg}\n`));
  const host = opts.host ?? '127.0.0.1';
  const store = new Store();
  store.indexLookups = opts.indexLookups ?? true;
  let journal: Journal | undefined;
  if (opts.dir !== undefined) {
    const recovered = recover(opts.dir, log);
    for (const r of recovered.snapshot) store.replay(r);
    for (const r of recovered.journal) store.replay(r);
    journal = await Journal.open({
      dir: opts.dir,
      generation: recovered.generation,
      snapshot: () => store.snapshotRecords(),
      compactAfterBytes: opts.compactAfterBytes ?? 64 * 1024 * 1024,
      log,
    });
    store.journal = journal;
  }
  const server = new WireServer({ store, log, ttlIntervalMs: opts.ttlIntervalMs ?? 10_000 });
  let port: number;
  try {
    port = await server.listen(opts.port ?? 0, host);
  } catch (err) {
    await journal?.close();
    throw err;
  }
  const uriHost = host.includes(':') ? `[${host}]` : host;
  return {
    uri: `mongodb://${uriHost}:${port}/?directConnection=true`,
    port,
    async close() {
      await server.close();
      await journal?.close();
    },
  };
}
