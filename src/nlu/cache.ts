/**
 * The on-disk model cache. A model is keyed by a hash of its corpora, its training options and
 * the training code itself, so a restart with unchanged content loads it (no retraining) and
 * any change to either retrains.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BundleJSON, MODEL_FORMAT, parseBundle } from './bundle.js';
import type { Corpus } from './corpus.js';
import type { TrainOptions } from './model.js';

/** Default cache directory, relative to the working directory. */
export const DEFAULT_CACHE_DIR = '.cache/nlu';

/** Source files whose content changes what training produces. */
const TRAINING_SOURCES = [
  'bundle.ts',
  'corpus.ts',
  'features.ts',
  'langid.ts',
  'logreg.ts',
  'model.ts',
  'nlpjs.ts',
  'references.ts',
  'text.ts',
  'vectorizer.ts',
  'zh.ts',
];

let codeDigest: string | undefined;

/** A digest of the training code and the NLP.js version it builds on. */
export function codeVersion(): string {
  if (codeDigest) return codeDigest;
  const h = createHash('sha256').update(MODEL_FORMAT);
  const here = dirname(fileURLToPath(import.meta.url));
  for (const name of TRAINING_SOURCES) {
    try {
      h.update(name).update(readFileSync(join(here, name)));
    } catch {
      // A build that ships only compiled files still has MODEL_FORMAT and the package versions.
    }
  }
  const require = createRequire(import.meta.url);
  for (const pkg of ['@nlpjs/basic', '@nlpjs/language']) {
    try {
      h.update(readFileSync(require.resolve(`${pkg}/package.json`)));
    } catch {
      h.update(pkg);
    }
  }
  codeDigest = h.digest('hex');
  return codeDigest;
}

/** The cache key of a model trained from these corpora with these options. */
export function modelKey(corpora: readonly Corpus[], opts: TrainOptions = {}): string {
  const h = createHash('sha256').update(codeVersion()).update(JSON.stringify(opts));
  for (const c of corpora) h.update(c.lang).update(c.digest);
  return h.digest('hex').slice(0, 20);
}

/** Path of a cached model file. */
export function cachePath(cacheDir: string, key: string): string {
  return join(cacheDir, `model-${key}.json`);
}

/** Reads a cached model; undefined when absent, unreadable or not for this key. */
export async function readCached(path: string, key?: string): Promise<BundleJSON | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const bundle = parseBundle(text);
    return key === undefined || bundle.key === key ? bundle : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a model atomically (temp file, then rename) so a crash never leaves half a model. */
export async function writeModel(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}
