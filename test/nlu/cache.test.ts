import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIntentModel } from '../../src/nlu/index.js';
import { QUICK, fixture, tempDir } from './helpers.js';

describe('model cache', () => {
  it('trains once in a worker, then loads the cache while the corpora are unchanged', async () => {
    const corpusDir = tempDir('corpus');
    for (const l of ['en', 'fr']) copyFileSync(fixture(l), join(corpusDir, `${l}.json`));
    const cacheDir = tempDir('cache');
    const progress: number[] = [];

    const first = await loadIntentModel({
      corpusDir,
      cacheDir,
      training: QUICK,
      onProgress: (p) => progress.push(p.done),
    });
    expect(first.fromCache).toBe(false);
    expect(progress.length).toBeGreaterThan(0);
    expect(first.langs).toEqual(['en', 'fr']);
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.json'))).toHaveLength(1);

    progress.length = 0;
    const second = await loadIntentModel({
      corpusDir,
      cacheDir,
      training: QUICK,
      onProgress: (p) => progress.push(p.done),
    });
    expect(second.fromCache).toBe(true);
    expect(progress).toEqual([]);
    expect(second.classify('how do i renew my passport')).toEqual(
      first.classify('how do i renew my passport'),
    );

    // Editing a corpus changes the key: the next load retrains.
    const en = join(corpusDir, 'en.json');
    writeFileSync(en, readFileSync(en, 'utf8').replace('"hiya"', '"hiya", "yo"'));
    const third = await loadIntentModel({ corpusDir, cacheDir, training: QUICK });
    expect(third.fromCache).toBe(false);
  });

  it('retrains instead of trusting a corrupted cache file', async () => {
    const corpusDir = tempDir('corpus');
    copyFileSync(fixture('en'), join(corpusDir, 'en.json'));
    const cacheDir = tempDir('cache');
    const first = await loadIntentModel({ corpusDir, cacheDir, training: QUICK });
    writeFileSync(first.path ?? '', '{"format":"civic-nlu/1", "truncated');
    const again = await loadIntentModel({ corpusDir, cacheDir, training: QUICK });
    expect(again.fromCache).toBe(false);
    expect(again.classify('hello there').intent).toBe('greet');
  });
});
