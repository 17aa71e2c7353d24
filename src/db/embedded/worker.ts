/**
 * Worker-thread entry of the embedded server (`startEmbeddedMongo({ thread: true })`): runs the same
 * in-thread server on this thread's event loop and talks to the parent through the protocol
 * declared in index.ts. Durability is unchanged: a write is acknowledged on the socket only after
 * its journal fsync, whichever thread does it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  errorToData,
  startEmbeddedMongo,
  toWorkerSchema,
  workerOptionsSchema,
  type EmbeddedMongo,
  type FromWorker,
} from './index.js';

const port = parentPort;
if (!port) throw new Error('src/db/embedded/worker.ts is a worker-thread entry, not a script');
const send = (m: FromWorker): void => port.postMessage(m);

let server: EmbeddedMongo | undefined;
try {
  server = await startEmbeddedMongo({
    ...workerOptionsSchema.parse(workerData),
    logger: (msg) => send({ t: 'log', msg }),
  });
} catch (err) {
  // startEmbeddedMongo released the journal and LOCK it had taken. Not rethrown: the message, sent
  // before this thread's exit, is what the parent rejects with (same message and code as in-thread).
  send({ t: 'failed', error: errorToData(err) });
}
if (server) {
  const running = server;
  send({ t: 'ready', uri: running.uri, port: running.port });
  port.on('message', (raw: unknown) => {
    if (!toWorkerSchema.safeParse(raw).success) return;
    running.close().then(
      () => send({ t: 'closed' }),
      (err: unknown) => send({ t: 'failed', error: errorToData(err) }),
    );
  });
}
