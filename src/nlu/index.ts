/**
 * The shared intent model: the API the rest of the product uses.
 *
 * @example
 * const model = await loadIntentModel();
 * model.classify('any news on C-7K4P9Q?');
 * // { text, intent: 'case.status', score: 0.97, lang: 'en', references: ['C-7K4P9Q'] }
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { type Classification, type Lang, NONE, isIntent } from './catalog.js';
import {
  type BundleJSON,
  type BundleSummary,
  ModelBundle,
  type RawClassification,
  type TrainProgress,
  parseBundle,
} from './bundle.js';
import { DEFAULT_CACHE_DIR, cachePath, modelKey, readCached, writeModel } from './cache.js';
import { type Corpus, listCorpusFiles, mergeByLang, readCorpus } from './corpus.js';
import { type TrainOptions, stepsPerLanguage } from './model.js';

export { extractReferences } from './references.js';
export { CorpusError } from './corpus.js';
export type { TrainProgress } from './bundle.js';
export type { TrainOptions } from './model.js';

/** The repository root (src/nlu/../..), so defaults do not depend on the working directory. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where the demo content pack's corpora live. */
export const DEFAULT_CORPUS_DIR = join(ROOT, 'intents');

/** Options of {@link loadIntentModel}. */
export interface LoadOptions {
  /** Directory of `<lang>.json` corpora (default: the repository's intents/). */
  corpusDir?: string;
  /** Explicit corpus files; overrides `corpusDir`. */
  corpora?: string[];
  /** Cache directory (default: `.cache/nlu` at the repository root). */
  cacheDir?: string;
  /** Called during training (never when the cache is used). */
  onProgress?: (p: TrainProgress) => void;
  /** Training knobs (tests use fewer folds); part of the cache key. */
  training?: TrainOptions;
}

/** The trained model, synchronous after load. */
export interface IntentModel {
  /**
   * Classifies one message into a catalog intent or `None`. `opts.lang` forces the language
   * (the citizen chose one); otherwise it is detected.
   */
  classify(text: string, opts?: { lang?: Lang }): Classification;
  /**
   * The most likely of the model's languages for a message. With `prior` (the conversation's
   * language so far), that language is kept unless the message clearly reads as another one.
   */
  detectLanguage(text: string, prior?: Lang): Lang;
  /** Like {@link classify} but with the corpus's own labels (for evaluating other corpora). */
  classifyRaw(text: string, opts?: { lang?: Lang }): RawClassification;
  /** Languages the model knows. */
  readonly langs: readonly Lang[];
  /** True when this load used the on-disk cache instead of training. */
  readonly fromCache: boolean;
  /** Where the model file is. */
  readonly path: string | undefined;
  /** What was trained: corpora, cross-validation figures, thresholds (not the weights). */
  readonly summary: BundleSummary;
}

function wrap(bundle: ModelBundle, fromCache: boolean, path: string | undefined): IntentModel {
  return {
    classify(text, opts) {
      const raw = bundle.classify(text, opts?.lang);
      return { ...raw, intent: isIntent(raw.intent) ? raw.intent : NONE };
    },
    classifyRaw: (text, opts) => bundle.classify(text, opts?.lang),
    detectLanguage: (text, prior) => bundle.detectLanguage(text, prior),
    langs: bundle.langs,
    fromCache,
    path,
    summary: bundle.summary,
  };
}

const WorkerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), done: z.number(), total: z.number(), stage: z.string() }),
  z.object({ type: z.literal('done'), text: z.string() }),
  z.object({ type: z.literal('error'), message: z.string() }),
]);

/**
 * Trains in worker threads (the caller's event loop stays free) and returns the model JSON.
 * Languages are independent, so they are shared out over up to two workers (the machines this
 * runs on have few cores). `outFile` receives the model when given.
 */
export async function trainInWorker(
  corpora: readonly Corpus[],
  key: string,
  options: TrainOptions,
  outFile: string | undefined,
  onProgress?: (p: TrainProgress) => void,
): Promise<BundleJSON> {
  const workers = Math.max(1, Math.min(corpora.length, availableParallelism(), 2));
  const groups: Corpus[][] = Array.from({ length: workers }, () => []);
  const load = new Array<number>(workers).fill(0);
  for (const c of [...corpora].sort((a, b) => b.train.length - a.train.length)) {
    const i = load.indexOf(Math.min(...load));
    groups[i]?.push(c);
    load[i] = (load[i] ?? 0) + c.train.length;
  }
  const progress = groups.map((g) => ({
    done: 0,
    total: g.length * stepsPerLanguage(options) + 1,
    stage: '',
  }));
  const parts = await Promise.all(
    groups.map((group, i) =>
      runWorker(group, i === 0 ? corpora : undefined, key, options, (p) => {
        progress[i] = p;
        const done = progress.reduce((n, q) => n + q.done, 0);
        const total = progress.reduce((n, q) => n + q.total, 0);
        onProgress?.({ done, total, stage: p.stage });
      }),
    ),
  );
  const [first] = parts;
  if (!first) throw new Error('training produced no model');
  const byLang = new Map(parts.flatMap((p) => p.models).map((m) => [m.lang, m]));
  const metaByLang = new Map(parts.flatMap((p) => p.corpora).map((c) => [c.lang, c]));
  const json: BundleJSON = {
    ...first,
    corpora: corpora.flatMap((c) => metaByLang.get(c.lang) ?? []),
    models: corpora.flatMap((c) => byLang.get(c.lang) ?? []),
  };
  if (outFile) await writeModel(outFile, JSON.stringify(json));
  return json;
}

function runWorker(
  corpora: readonly Corpus[],
  detectorCorpora: readonly Corpus[] | undefined,
  key: string,
  options: TrainOptions,
  onProgress: (p: TrainProgress) => void,
): Promise<BundleJSON> {
  return new Promise((resolvePromise, reject) => {
    const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
      workerData: { corpora, detectorCorpora, key, options },
    });
    let settled = false;
    const finish = (err: Error | undefined, json?: BundleJSON): void => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      if (err || !json) reject(err ?? new Error('training produced no model'));
      else resolvePromise(json);
    };
    worker.on('message', (m: unknown) => {
      const msg = WorkerMessage.safeParse(m);
      if (!msg.success) return;
      if (msg.data.type === 'progress') onProgress(msg.data);
      else if (msg.data.type === 'error') finish(new Error(`training failed: ${msg.data.message}`));
      else {
        try {
          finish(undefined, parseBundle(msg.data.text));
        } catch (err) {
          finish(err instanceof Error ? err : new Error(String(err)));
        }
      }
    });
    worker.on('error', (err) => finish(err));
    worker.on('exit', (code) => finish(new Error(`training worker exited with code ${code}`)));
  });
}

/** Reads the corpora a load or a CLI command names, merged by language. */
export async function readCorpora(opts: { corpusDir?: string; corpora?: string[] } = {}): Promise<Corpus[]> {
  const files =
    opts.corpora && opts.corpora.length > 0
      ? opts.corpora
      : await listCorpusFiles(opts.corpusDir ?? DEFAULT_CORPUS_DIR);
  return mergeByLang(await Promise.all(files.map((f) => readCorpus(f))));
}

/**
 * Loads the shared intent model: from the on-disk cache when the corpora and the code are
 * unchanged, otherwise by training in a worker thread and caching the result.
 */
export async function loadIntentModel(opts: LoadOptions = {}): Promise<IntentModel> {
  return loadFromCorpora(await readCorpora(opts), opts);
}

/** {@link loadIntentModel} for corpora already read (the CLI's eval holds some utterances out). */
export async function loadFromCorpora(
  corpora: readonly Corpus[],
  opts: LoadOptions = {},
): Promise<IntentModel> {
  const training = opts.training ?? {};
  const key = modelKey(corpora, training);
  const path = cachePath(resolve(opts.cacheDir ?? join(ROOT, DEFAULT_CACHE_DIR)), key);
  const cached = await readCached(path, key);
  if (cached) return wrap(new ModelBundle(cached), true, path);
  const json = await trainInWorker(corpora, key, training, path, opts.onProgress);
  return wrap(new ModelBundle(json), false, path);
}

/** Loads a model written by `nlu train --out DIR` (or any model file path). */
export async function loadModelFrom(dirOrFile: string): Promise<IntentModel> {
  const path = dirOrFile.endsWith('.json') ? dirOrFile : join(dirOrFile, 'model.json');
  const json = await readCached(path);
  if (!json)
    throw new Error(`${path}: no model here (train one with: npm run -s nlu -- train --out ${dirOrFile})`);
  return wrap(new ModelBundle(json), true, path);
}
