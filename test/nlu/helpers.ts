import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCorpus, type Corpus } from '../../src/nlu/corpus.js';

/** Small hand-written corpora (a few intents + None per language) that train in seconds. */
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** Fast training knobs for fixtures. */
export const QUICK = { folds: 2, maxIter: 60 } as const;

export function fixture(lang: string): string {
  return join(FIXTURES, `${lang}.json`);
}

export async function fixtureCorpora(
  langs: string[] = ['en', 'fr', 'es', 'ru', 'ar', 'zh'],
): Promise<Corpus[]> {
  return Promise.all(langs.map((l) => readCorpus(fixture(l))));
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `nlu-${prefix}-`));
}
