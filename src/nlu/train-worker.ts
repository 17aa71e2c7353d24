/**
 * Worker-thread entry: trains a model off the main thread so a running server's event loop is
 * never blocked, reports progress, writes the cache file and hands the JSON back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { LANGS } from './catalog.js';
import { trainBundle } from './bundle.js';
import { writeModel } from './cache.js';

const ExampleSchema = z.object({ text: z.string(), intent: z.string(), lang: z.enum(LANGS) });
/** What the loader sends: plain corpora (structured-cloned), the key and where to write. */
const CorpusSchema = z.object({
  source: z.string(),
  lang: z.enum(LANGS),
  train: z.array(ExampleSchema),
  test: z.array(ExampleSchema),
  digest: z.string(),
});
export const TrainJobSchema = z.object({
  corpora: z.array(CorpusSchema),
  /** Corpora the language detector learns from, when they differ from `corpora`. */
  detectorCorpora: z.array(CorpusSchema).optional(),
  key: z.string(),
  outFile: z.string().optional(),
  options: z.object({
    folds: z.number().optional(),
    maxIter: z.number().optional(),
    l2: z.number().optional(),
    seed: z.number().optional(),
  }),
});

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('train-worker must run in a worker thread');
  const job = TrainJobSchema.parse(workerData);
  const bundle = await trainBundle(
    job.corpora,
    job.key,
    job.options,
    (p) => port.postMessage({ type: 'progress', ...p }),
    job.detectorCorpora ?? job.corpora,
  );
  const text = JSON.stringify(bundle);
  if (job.outFile) await writeModel(job.outFile, text);
  port.postMessage({ type: 'done', text });
}

main().catch((err: unknown) => {
  parentPort?.postMessage({
    type: 'error',
    message: err instanceof Error ? (err.stack ?? err.message) : String(err),
  });
});
