import { createServer, type Server, type Socket } from 'node:net';
import { runCommand } from './commands.js';
import { Cursors } from './cursors.js';
import type { Store } from './store.js';
import { decodeMessage, encodeReply, messageLength, ProtocolError } from './wire.js';

/** Options of {@link WireServer}. */
export interface WireServerOptions {
  store: Store;
  log: (msg: string) => void;
  /** How often expired TTL documents are deleted. */
  ttlIntervalMs: number;
  /** How long a document is left unwritten before it is packed (`Documents.cool`); false: never. */
  packAfterMs: number | false;
}

/**
 * How often documents are looked at for packing, and how many one look packs at most (a few
 * milliseconds of work): at 520 messages a second about 260 are due each time, and after a restart
 * from a data folder every document is.
 */
const PACK_TICK_MS = 250;
const PACK_PER_TICK = 1000;

/**
 * The TCP side: frames messages, runs them one at a time per connection (as the driver expects),
 * and closes only the offending connection on a malformed message.
 */
export class WireServer {
  readonly server: Server;
  private readonly opts: WireServerOptions;
  private readonly cursors = new Cursors();
  private readonly sockets = new Set<Socket>();
  private nextConnectionId = 1;
  private nextRequestId = 1;
  private readonly ttlTimer: NodeJS.Timeout;
  private readonly packTimer: NodeJS.Timeout | undefined;

  constructor(opts: WireServerOptions) {
    this.opts = opts;
    this.server = createServer((socket) => this.accept(socket));
    this.ttlTimer = setInterval(() => {
      // A failing sweep (e.g. a bad partial filter) must not take the server down; the next one retries.
      this.sweepTtl().catch((err: unknown) =>
        opts.log(`TTL sweep failed: ${err instanceof Error ? err.message : String(err)}`),
      );
    }, opts.ttlIntervalMs);
    this.ttlTimer.unref();
    const packAfter = opts.packAfterMs;
    if (packAfter !== false) {
      const age = Math.ceil(packAfter / PACK_TICK_MS);
      this.packTimer = setInterval(() => opts.store.cool(age, PACK_PER_TICK), PACK_TICK_MS);
      this.packTimer.unref();
    }
  }

  private accept(socket: Socket): void {
    const connectionId = this.nextConnectionId++;
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    let buffered: Buffer = Buffer.alloc(0);
    let chain = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      try {
        for (;;) {
          const len = messageLength(buffered);
          if (len === undefined || buffered.length < len) break;
          const msg = buffered.subarray(0, len);
          buffered = buffered.subarray(len);
          const cmd = decodeMessage(msg);
          chain = chain.then(async () => {
            const reply = await runCommand(cmd.body, {
              store: this.opts.store,
              cursors: this.cursors,
              db: cmd.db,
              connectionId,
              remote,
            });
            if (!cmd.moreToCome && !socket.destroyed) {
              socket.write(encodeReply(this.nextRequestId++, cmd.requestId, cmd.opCode, reply));
            }
          });
          chain = chain.catch((err: unknown) => {
            this.opts.log(
              `connection ${connectionId}: failed to answer: ${err instanceof Error ? err.message : String(err)}`,
            );
            socket.destroy();
          });
        }
      } catch (err) {
        const why =
          err instanceof ProtocolError ? err.message : err instanceof Error ? err.message : String(err);
        this.opts.log(`connection ${connectionId} from ${remote}: malformed message (${why}); closing it`);
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  /** Deletes documents whose TTL index date plus expireAfterSeconds has passed. */
  async sweepTtl(now = Date.now()): Promise<number> {
    const w = this.opts.store.begin();
    let removed = 0;
    for (const colls of this.opts.store.dbs.values()) {
      for (const coll of colls.values()) {
        for (const doc of coll.expired(now)) {
          w.remove(coll, doc);
          removed += 1;
        }
      }
    }
    try {
      await w.commit();
    } catch (err) {
      this.opts.log(
        `TTL sweep could not journal its deletions: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    return removed;
  }

  /** Listens; resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  /** Listens on a Unix socket at `path`. */
  listenOn(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(path, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Stops accepting, drops open connections and the timers. */
  async close(): Promise<void> {
    clearInterval(this.ttlTimer);
    clearInterval(this.packTimer);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}
