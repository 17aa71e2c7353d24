import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INTENTS, LANGS, NONE } from '../../src/nlu/catalog.js';
import { readCorpus } from '../../src/nlu/corpus.js';
import { DEFAULT_CORPUS_DIR } from '../../src/nlu/index.js';

describe('shipped corpora (intents/)', () => {
  for (const lang of LANGS) {
    const file = join(DEFAULT_CORPUS_DIR, `${lang}.json`);
    it(`${lang}: covers every catalog intent and None, each with held-out tests`, async () => {
      expect(existsSync(file), `${file} is missing`).toBe(true);
      const corpus = await readCorpus(file);
      expect(corpus.lang).toBe(lang);
      for (const intent of [...INTENTS, NONE]) {
        const train = corpus.train.filter((e) => e.intent === intent).length;
        const tests = corpus.test.filter((e) => e.intent === intent).length;
        expect(train, `${lang} ${intent}: training utterances`).toBeGreaterThanOrEqual(5);
        expect(tests, `${lang} ${intent}: held-out tests`).toBeGreaterThanOrEqual(1);
      }
      // Labels outside the catalog would be answered as None by the product.
      const unknown = new Set(
        corpus.train
          .map((e) => e.intent)
          .filter((i) => i !== NONE && !(INTENTS as readonly string[]).includes(i)),
      );
      expect([...unknown]).toEqual([]);
      // A held-out test that is also a training utterance measures nothing.
      const seen = new Set(corpus.train.map((e) => e.text.trim().toLowerCase()));
      const leaked = corpus.test.filter((e) => seen.has(e.text.trim().toLowerCase())).map((e) => e.text);
      expect(leaked).toEqual([]);
    });
  }
});
