/**
 * Text normalisation and feature extraction shared by the language detector and the
 * character n-gram classifier. Citizens type on phones: no accents, typos, mixed case,
 * Arabic with or without vowel marks, Russian with "е" for "ё". Everything here folds
 * those variants together so that the models see one form.
 */

/** CJK unified ideographs (basic block and extension A) and compatibility ideographs. */
const HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/u;
const HAN_G = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/gu;
const ARABIC_G = /[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]/gu;
const CYRILLIC_G = /[\u0400-\u04ff]/gu;
const SCRIPT_RUNS =
  /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/gu;
const LATIN_G = /[a-zA-Z\u00c0-\u024f]/gu;

/** How many letters of each script a text holds; used for script-based language shortcuts. */
export interface ScriptCounts {
  han: number;
  arabic: number;
  cyrillic: number;
  latin: number;
}

/** Counts letters per script. */
export function scriptCounts(text: string): ScriptCounts {
  return {
    han: text.match(HAN_G)?.length ?? 0,
    arabic: text.match(ARABIC_G)?.length ?? 0,
    cyrillic: text.match(CYRILLIC_G)?.length ?? 0,
    latin: text.match(LATIN_G)?.length ?? 0,
  };
}

/** True when the character is a Han ideograph. */
export function isHan(ch: string): boolean {
  return HAN.test(ch);
}

/**
 * Folds a text to the form both classifiers learn from: lower case, accents removed (NFD minus
 * combining marks), Arabic letter variants and vowel marks unified, "ё" → "е", full-width forms
 * to ASCII, punctuation to spaces.
 *
 * @example fold("¿Dónde está la Mairie?") === "donde esta la mairie"
 */
export function fold(text: string): string {
  return (
    text
      // Full-width ASCII (common in Chinese input methods) to ASCII.
      .replace(/[\uff01-\uff5e]/gu, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
      .normalize('NFKD')
      .toLowerCase()
      // Latin/Cyrillic combining marks (accents, the breve of "й" is kept apart below).
      .replace(/[\u0300-\u0305\u0307-\u036f]/gu, '')
      // Arabic harakat, tatweel and Quranic marks.
      .replace(/[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]/gu, '')
      .replace(/[\u0622\u0623\u0625\u0671]/gu, '\u0627')
      .replace(/\u0649/gu, '\u064a')
      .replace(/\u0629/gu, '\u0647')
      .normalize('NFC')
      .replace(/ё/gu, 'е')
      .replace(/[^\p{L}\p{N}#]+/gu, ' ')
      .trim()
  );
}

/**
 * Splits folded text into words; runs of Han ideographs become one word each so that the
 * caller can decide how to cut them.
 */
export function words(folded: string): string[] {
  return folded.split(' ').filter((w) => w.length > 0);
}

/**
 * Character and word features of one utterance, as feature-name strings. Latin, Cyrillic
 * and Arabic words give padded character 3–5-grams plus the word and word bigrams; Han runs
 * give character 1–3-grams, because Chinese has no spaces and a word segmenter would cost
 * memory for little gain at this level.
 */
export function ngramFeatures(folded: string): string[] {
  const out: string[] = [];
  const ws = words(folded);
  let prev = '^';
  for (const w of ws) {
    if (HAN.test(w)) {
      // A word may mix Han and Latin ("护照renew"): cut it by script.
      for (const part of w.match(SCRIPT_RUNS) ?? []) {
        if (isHan(part[0] ?? '')) hanGrams(part, out);
        else latinGrams(part, out);
      }
      prev = '^';
      continue;
    }
    latinGrams(w, out);
    out.push(`b:${prev}_${w}`);
    prev = w;
  }
  if (prev !== '^') out.push(`b:${prev}_$`);
  return out;
}

function latinGrams(w: string, out: string[]): void {
  out.push(`w:${w}`);
  const padded = `<${w}>`;
  const chars = Array.from(padded);
  // Bigrams add little but noise once words and 3–5-grams are there (measured on a dev split).
  for (let n = 3; n <= 5; n += 1) {
    for (let i = 0; i + n <= chars.length; i += 1) {
      out.push(`c:${chars.slice(i, i + n).join('')}`);
    }
  }
}

function hanGrams(run: string, out: string[]): void {
  const chars = Array.from(run);
  for (let n = 1; n <= 3; n += 1) {
    for (let i = 0; i + n <= chars.length; i += 1) {
      out.push(`h:${chars.slice(i, i + n).join('')}`);
    }
  }
  out.push(`h:^${chars[0] ?? ''}`);
}
