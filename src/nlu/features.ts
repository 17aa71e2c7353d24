/**
 * Features of the intent classifier: word unigrams and bigrams, NLP.js stems (the
 * @nlpjs/basic normalizer/tokenizer/stemmer of the language) and character n-grams inside
 * words, weighted by sublinear TF-IDF and L2-normalised. Words carry meaning, stems carry it
 * across inflections, character n-grams carry it across typos and missing accents.
 */
import type { Lang } from './catalog.js';
import { nlpjsStems } from './nlpjs.js';
import { maskReferences } from './references.js';
import { fold, isHan, words } from './text.js';
import { segmentHan } from './zh.js';

/** Which feature families are extracted; chosen by cross-validation (see model.ts). */
export interface FeatureConfig {
  /** Shortest and longest character n-gram inside a padded word. */
  charMin: number;
  charMax: number;
  /** Word bigrams (with sentence start/end markers). */
  bigrams: boolean;
  /** NLP.js stems of the language. */
  stems: boolean;
}

export const DEFAULT_FEATURES: FeatureConfig = { charMin: 2, charMax: 5, bigrams: true, stems: true };

/** Longest text featurised: intent lives in the first words; a paste costs no more than this. */
export const MAX_FEATURE_CHARS = 300;

/**
 * Elongations and doubled letters are typed freely on phones ("pleeease", "cyaa",
 * "tchuss"): letters repeated three times or more become two for words, and the character
 * n-grams see every run collapsed to one letter.
 */
function squeeze(w: string): string {
  return w.replace(/(\p{L})\1{2,}/gu, '$1$1');
}
function dedupe(w: string): string {
  return w.replace(/(\p{L})\1+/gu, '$1');
}

/** The folded form features are computed from (references masked, length capped). */
export function normalizeForFeatures(text: string): string {
  return fold(maskReferences(text.slice(0, MAX_FEATURE_CHARS)));
}

/**
 * Feature names of one utterance, with repetitions (a term's count is its tf).
 *
 * @example extractFeatures('en', 'renew passport', DEFAULT_FEATURES) // ['w:renew', 'c:<r', ...]
 */
export function extractFeatures(lang: Lang, text: string, cfg: FeatureConfig): string[] {
  const out: string[] = [];
  const folded = normalizeForFeatures(text);
  const toks: string[] = [];
  for (const raw of words(folded)) {
    if (isHan(raw[0] ?? '') || /[\u3400-\u9fff]/u.test(raw)) {
      for (const part of raw.match(
        /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/gu,
      ) ?? []) {
        if (isHan(part[0] ?? '')) {
          hanGrams(part, out);
          for (const seg of segmentHan(part)) toks.push(seg);
        } else {
          const w = squeeze(part);
          toks.push(w);
          charGrams(dedupe(w), cfg, out);
        }
      }
      continue;
    }
    const w = squeeze(raw);
    toks.push(w);
    charGrams(dedupe(w), cfg, out);
  }
  for (const t of toks) out.push(`w:${t}`);
  if (cfg.bigrams) {
    let prev = '^';
    for (const t of toks) {
      out.push(`b:${prev}_${t}`);
      prev = t;
    }
    if (toks.length > 0) out.push(`b:${prev}_$`);
  }
  if (cfg.stems && lang !== 'zh') {
    for (const s of nlpjsStems(lang, folded)) out.push(`s:${s}`);
  }
  return out;
}

function charGrams(w: string, cfg: FeatureConfig, out: string[]): void {
  const chars = Array.from(`<${w}>`);
  for (let n = cfg.charMin; n <= cfg.charMax; n += 1) {
    for (let i = 0; i + n <= chars.length; i += 1) out.push(`c:${chars.slice(i, i + n).join('')}`);
  }
}

function hanGrams(run: string, out: string[]): void {
  const chars = Array.from(run);
  for (let n = 1; n <= 3; n += 1) {
    for (let i = 0; i + n <= chars.length; i += 1) out.push(`h:${chars.slice(i, i + n).join('')}`);
  }
}
