/**
 * A compact Chinese word segmenter for the NLP.js half of the model.
 *
 * @nlpjs/lang-zh segments with CC-CEDICT too, but compiles every entry with its pinyin and
 * English definitions: about 1 s and 180 MB the first time it is used, and its stemmer then
 * replaces each word by pinyin, which merges homophones. Here only the set of headwords is
 * kept (≈ 190 k strings, ~0.15 s, a few tens of MB) and words stay words. The dictionary file
 * is the one that package ships; nothing is downloaded.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isHan } from './text.js';

const MAX_WORD = 8;
let headwords: Set<string> | undefined;

function dictionary(): Set<string> {
  if (headwords) return headwords;
  const require = createRequire(import.meta.url);
  const raw = readFileSync(require.resolve('@nlpjs/lang-zh/src/cedict_ts.u8.js'), 'utf8');
  const set = new Set<string>();
  for (const line of raw.split('\n')) {
    if (line.startsWith('#')) continue;
    const a = line.indexOf(' ');
    const b = line.indexOf(' ', a + 1);
    if (a <= 0 || b <= a) continue;
    // Only entries made of ideographs help segmentation; the rest are ASCII or mixed forms.
    const traditional = line.slice(0, a);
    const simplified = line.slice(a + 1, b);
    if (isHan(simplified[0] ?? '')) set.add(simplified);
    if (isHan(traditional[0] ?? '')) set.add(traditional);
  }
  headwords = set;
  return set;
}

/**
 * Cuts a run of Han characters into dictionary words by greedy longest match (as NLP.js
 * does); characters not in the dictionary stand alone.
 *
 * @example segmentHan("我想办护照") // ["我", "想", "办", "护照"]
 */
export function segmentHan(run: string): string[] {
  const dict = dictionary();
  const chars = Array.from(run);
  const out: string[] = [];
  let i = 0;
  while (i < chars.length) {
    let len = Math.min(MAX_WORD, chars.length - i);
    for (; len > 1; len -= 1) {
      if (dict.has(chars.slice(i, i + len).join(''))) break;
    }
    out.push(chars.slice(i, i + len).join(''));
    i += len;
  }
  return out;
}

/** Splits text into tokens: Han runs are segmented, other runs are split on non-letters. */
export function tokenizeZh(text: string): string[] {
  const out: string[] = [];
  for (const run of text.match(/[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[\p{L}\p{N}]+/gu) ?? []) {
    if (isHan(run[0] ?? '')) out.push(...segmentHan(run));
    else out.push(run.toLowerCase());
  }
  return out;
}

/** NLP.js plugins for "zh" built on {@link tokenizeZh}; registered in place of @nlpjs/lang-zh's. */
export class NormalizerZhLite {
  readonly name = 'normalizer-zh';
  normalize(text: string): string {
    return text.normalize('NFKC').toLowerCase();
  }
}

/** See {@link NormalizerZhLite}. */
export class TokenizerZhLite {
  readonly name = 'tokenizer-zh';
  tokenize(text: string): string[] {
    return tokenizeZh(text);
  }
  innerTokenize(text: string): string[] {
    return tokenizeZh(text);
  }
}

/** Words are kept as they are: Chinese has no inflection to strip. */
export class StemmerZhLite {
  readonly name = 'stemmer-zh';
  stem(tokens: string[]): string[] {
    return tokens;
  }
}
