import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { spawnWorker, workerEntry } from '../../threads.js';
import type { Journal } from './journal.js';

/** A running embedded server. */
export interface EmbeddedMongo {
  /**
   * `mongodb://host:port/?directConnection=true` (or the socket's path, percent-encoded, in place of
   * host and port), usable by mongoose.connect and MongoClient.
   */
  uri: string;
  /** The TCP port; 0 when listening on a Unix socket. */
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
  /**
   * Listens on this Unix socket (a path ending in `.sock`) instead of TCP: for a client in the same
   * process or machine, each command then costs less to send and receive. The file is removed on close.
   */
  socketPath?: string;
  /** Receives operational lines (recovery warnings, malformed messages, compactions). */
  logger?: (msg: string) => void;
  /** How often TTL indexes are swept (MongoDB: 60 s). Default 10 s. */
  ttlIntervalMs?: number;
  /** Journal size that triggers compaction into a snapshot. Default 64 MiB. */
  compactAfterBytes?: number;
  /** Read through index lookup maps when a filter pins an index's first field (default true); false scans, for benchmarks. */
  indexLookups?: boolean;
  /**
   * Documents left unwritten this long are kept as their BSON bytes instead of as objects (default
   * 5000; 0 packs every document within a quarter of a second; `false` never packs). See
   * documents.ts: many stored documents make each full garbage collection of the server's thread
   * slower, packed ones hardly.
   */
  packAfterMs?: number | false;
  /**
   * Runs the server in a worker thread (default false): the app reaches it over TCP anyway, so
   * command handling then uses another core instead of sharing the event loop with the app's turns.
   */
  thread?: boolean;
  /**
   * With `thread`: called when the worker stops without `close()` (an uncaught exception in it, or
   * an exit). Unset, the failure is only reported to `logger`. In-thread, the same failure would
   * have crashed the process, so a caller that cannot work without its database should stop here.
   */
  onCrash?: (err: Error) => void;
}

/**
 * Starts a MongoDB-wire-compatible server, in this thread or (with `thread: true`) in a worker.
 *
 * @example
 * ```ts
 * const db = await startEmbeddedMongo({ dir: './data', thread: true });
 * await mongoose.connect(db.uri);
 * // …
 * await mongoose.disconnect();
 * await db.close();
 * ```
 */
export async function startEmbeddedMongo(opts: EmbeddedMongoOptions = {}): Promise<EmbeddedMongo> {
  const log = opts.logger ?? ((msg: string) => process.stderr.write(`[embedded-mongo] ${msg}\n`));
  if (opts.thread === true) return startInWorker(opts, log);
  // Loaded here, not at the top: an app that runs the server in a worker (`thread`) never loads the
  // server, its query engine and the store on its own thread (mingo alone is about three hundred
  // modules): they would sit in the app's heap for nothing, and every full garbage collection of
  // the app's heap would walk them.
  const [{ Journal, recover }, { WireServer }, { Store }] = await Promise.all([
    import('./journal.js'),
    import('./server.js'),
    import('./store.js'),
  ]);
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
  const server = new WireServer({
    store,
    log,
    ttlIntervalMs: opts.ttlIntervalMs ?? 10_000,
    packAfterMs: opts.packAfterMs ?? 5_000,
  });
  let port = 0;
  try {
    if (opts.socketPath !== undefined) await server.listenOn(opts.socketPath);
    else port = await server.listen(opts.port ?? 0, host);
  } catch (err) {
    await journal?.close();
    throw err;
  }
  const uriHost =
    opts.socketPath !== undefined
      ? encodeURIComponent(opts.socketPath)
      : `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    uri: `mongodb://${uriHost}/?directConnection=true`,
    port,
    async close() {
      await server.close();
      await journal?.close();
    },
  };
}

/*
 * The worker protocol. workerData carries the serialisable options; the worker answers with one
 * `ready` or `failed`, any number of `log`s, and after a `close` request one `closed` or `failed`.
 * Errors cross as plain data (structured clone keeps neither `code` nor other own properties), so
 * that a caller sees the same message and code (`EADDRINUSE`, …) as in-thread.
 */

/** The options a worker receives as `workerData`. @internal */
export const workerOptionsSchema = z.object({
  dir: z.string().optional(),
  port: z.number().int().min(0).max(65535).optional(),
  host: z.string().optional(),
  socketPath: z.string().optional(),
  ttlIntervalMs: z.number().positive().optional(),
  compactAfterBytes: z.number().positive().optional(),
  indexLookups: z.boolean().optional(),
  packAfterMs: z.union([z.number().min(0), z.literal(false)]).optional(),
});

/** What crosses the thread boundary for an error. @internal */
export const errorDataSchema = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  /** Own primitive properties: code, errno, syscall, address, port… */
  props: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});
type ErrorData = z.infer<typeof errorDataSchema>;

/** Messages from the worker. @internal */
export const fromWorkerSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('log'), msg: z.string() }),
  z.object({ t: z.literal('ready'), uri: z.string(), port: z.number().int() }),
  z.object({ t: z.literal('failed'), error: errorDataSchema }),
  z.object({ t: z.literal('closed') }),
]);
/** A message from the worker. @internal */
export type FromWorker = z.infer<typeof fromWorkerSchema>;

/** Messages to the worker. @internal */
export const toWorkerSchema = z.object({ t: z.literal('close') });

/** Flattens an error for postMessage. @internal */
export function errorToData(err: unknown): ErrorData {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), props: {} };
  const props: ErrorData['props'] = {};
  for (const [k, v] of Object.entries(err)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') props[k] = v;
  }
  return { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}), props };
}

function errorFromData(data: ErrorData): Error {
  const err = new Error(data.message);
  Object.assign(err, data.props);
  err.name = data.name;
  if (data.stack !== undefined) err.stack = data.stack;
  return err;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function startInWorker(opts: EmbeddedMongoOptions, log: (msg: string) => void): Promise<EmbeddedMongo> {
  const entry = workerEntry(import.meta.url, 'worker');
  if (!existsSync(fileURLToPath(entry))) throw new Error(`embedded database worker ${entry.href} is missing`);
  const data: z.input<typeof workerOptionsSchema> = {
    ...(opts.dir !== undefined ? { dir: opts.dir } : {}),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.host !== undefined ? { host: opts.host } : {}),
    ...(opts.socketPath !== undefined ? { socketPath: opts.socketPath } : {}),
    ...(opts.ttlIntervalMs !== undefined ? { ttlIntervalMs: opts.ttlIntervalMs } : {}),
    ...(opts.compactAfterBytes !== undefined ? { compactAfterBytes: opts.compactAfterBytes } : {}),
    ...(opts.indexLookups !== undefined ? { indexLookups: opts.indexLookups } : {}),
    ...(opts.packAfterMs !== undefined ? { packAfterMs: opts.packAfterMs } : {}),
  };
  const worker = spawnWorker(entry, { workerData: data, name: 'embedded-mongo' });

  let state: 'starting' | 'running' | 'closing' | 'gone' = 'starting';
  let onReady: (m: { uri: string; port: number }) => void = () => undefined;
  let onFailed: (err: Error) => void = () => undefined;
  let onClosed: () => void = () => undefined;
  let crash: Error | undefined;

  worker.on('message', (raw: unknown) => {
    const parsed = fromWorkerSchema.safeParse(raw);
    if (!parsed.success) {
      log(`embedded database thread sent an unexpected message: ${parsed.error.message}`);
      return;
    }
    const m = parsed.data;
    if (m.t === 'log') log(m.msg);
    else if (m.t === 'ready') onReady(m);
    else if (m.t === 'failed') onFailed(errorFromData(m.error));
    else onClosed();
  });
  worker.on('error', (err) => {
    // An uncaught exception in the worker; 'exit' follows.
    crash = err;
  });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  void exited.then((code) => {
    const was = state;
    state = 'gone';
    if (was === 'closing' || was === 'starting') return;
    const err = crash ?? new Error(`embedded database thread exited unexpectedly with code ${String(code)}`);
    log(`embedded database thread stopped: ${messageOf(err)}`);
    opts.onCrash?.(err);
  });

  const ready = await new Promise<{ uri: string; port: number }>((resolve, reject) => {
    onReady = resolve;
    onFailed = reject;
    void exited.then((code) =>
      reject(
        crash ?? new Error(`embedded database thread exited with code ${String(code)} before listening`),
      ),
    );
  }).catch(async (err: unknown) => {
    // The worker released what it had taken (journal, LOCK) before reporting; make sure it is gone.
    await worker.terminate();
    throw err;
  });
  state = 'running';

  let closing: Promise<void> | undefined;
  return {
    uri: ready.uri,
    port: ready.port,
    close() {
      closing ??= (async () => {
        if (state !== 'running') return;
        state = 'closing';
        await new Promise<void>((resolve, reject) => {
          onClosed = resolve;
          onFailed = reject;
          void exited.then(() =>
            reject(crash ?? new Error('embedded database thread exited before it had closed')),
          );
          worker.postMessage({ t: 'close' } satisfies z.infer<typeof toWorkerSchema>);
        }).finally(() => worker.terminate());
      })();
      return closing;
    },
  };
}
