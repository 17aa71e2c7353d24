/**
 * Worker-thread entry of {@link startNluThread}: loads the intent model (from the cache, or by
 * training it) and answers each message of requests with one message of answers, so classifying never
 * holds up the app's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadIntentModel, loadModelFrom } from './index.js';
import { nluBatchSchema, nluThreadOptionsSchema, type FromNluThread } from './threaded.js';
import { understand } from './understand.js';

const port = parentPort;
if (!port) throw new Error('understand-worker must run in a worker thread');
const post = (message: FromNluThread): void => port.postMessage(message);

try {
  const opts = nluThreadOptionsSchema.parse(workerData);
  const model = opts.modelPath
    ? await loadModelFrom(opts.modelPath)
    : await loadIntentModel(opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {});
  port.on('message', (m: unknown) => {
    const batch = nluBatchSchema.safeParse(m);
    if (!batch.success) return;
    post({
      t: 'answers',
      answers: batch.data.map(({ id, text, choice }) => {
        try {
          return { id, value: understand(model, text, choice) };
        } catch (err) {
          return { id, error: err instanceof Error ? err.message : String(err) };
        }
      }),
    });
  });
  post({ t: 'ready' });
} catch (err) {
  post({ t: 'failed', message: err instanceof Error ? err.message : String(err) });
}
