/**
 * Language detection among the model's languages (at most the six), tuned for short informal
 * messages. Scripts settle Arabic, Chinese and Russian at once. Latin-script text is decided
 * by a naive Bayes over words and character n-grams learned from the corpora (the words
 * citizens actually use: "hola", "bonjour", "pls"), combined with @nlpjs/language's trigram
 * profile restricted to the candidates, which alone confuses short English with Spanish.
 */
import { Language } from '@nlpjs/language';
import { type Lang, LANGS } from './catalog.js';
import { maskReferences } from './references.js';
import { fold, scriptCounts, words } from './text.js';

type Script = 'han' | 'arabic' | 'cyrillic' | 'latin';

const SCRIPT_OF: Record<Lang, Script> = {
  en: 'latin',
  fr: 'latin',
  es: 'latin',
  ar: 'arabic',
  ru: 'cyrillic',
  zh: 'han',
};

/** Serialised detector: per-language feature counts. */
export interface LangIdJSON {
  langs: Lang[];
  counts: Partial<Record<Lang, Record<string, number>>>;
  totals: Partial<Record<Lang, number>>;
  /** Weight of @nlpjs/language's opinion against the corpus-learned one. */
  trigramWeight: number;
  /** Share of each language's training utterances written in Latin script (Arabizi, translit). */
  latinShare: Partial<Record<Lang, number>>;
  /** How much a language's Latin-script share counts against the trigram profile of en/fr/es. */
  otherScriptPrior: number;
  /** Score margin a message needs to switch away from the conversation's language. */
  switchMargin?: number;
}

function dominantScript(text: string): Script | undefined {
  const s = scriptCounts(text);
  // A few Arabic, Cyrillic or Han letters in a mostly Latin message are code-switching by a
  // speaker of that language ("passport renewal كيف"): speakers of English, French or
  // Spanish rarely type them. So any non-Latin script present wins over Latin.
  const ranked: [Script, number][] = [
    ['han', s.han * 3],
    ['arabic', s.arabic],
    ['cyrillic', s.cyrillic],
  ];
  ranked.sort((a, b) => b[1] - a[1]);
  const [script, count] = ranked[0] ?? ['latin', 0];
  if (count >= 2) return script;
  return s.latin > 0 ? 'latin' : count > 0 ? script : undefined;
}

function latinFeatures(text: string): string[] {
  const out: string[] = [];
  for (const w of words(fold(text))) {
    if (!/[a-z]/u.test(w)) continue;
    out.push(`w:${w}`);
    const padded = `<${w}>`;
    for (let n = 1; n <= 3; n += 1) {
      for (let i = 0; i + n <= padded.length; i += 1) out.push(padded.slice(i, i + n));
    }
  }
  return out;
}

let trigramModel: Language | undefined;
function trigrams(): Language {
  trigramModel ??= new Language();
  return trigramModel;
}

/** Detects which of a model's languages a message is written in. */
export class LanguageDetector {
  private readonly vocabSize: number;

  private constructor(private readonly json: LangIdJSON) {
    const all = new Set<string>();
    for (const l of json.langs) for (const k of Object.keys(json.counts[l] ?? {})) all.add(k);
    this.vocabSize = all.size + 1;
  }

  /**
   * Learns Latin-script cues from training utterances (never from held-out tests). The default
   * weights were chosen on a 20% dev split of the training utterances: the corpus-learned
   * cues carry most of the decision, the trigram profile only breaks near-ties.
   */
  static train(
    examples: readonly { text: string; lang: Lang }[],
    trigramWeight = 0.1,
    otherScriptPrior = 30,
  ): LanguageDetector {
    const langs = LANGS.filter((l) => examples.some((e) => e.lang === l));
    const counts: Partial<Record<Lang, Record<string, number>>> = {};
    const totals: Partial<Record<Lang, number>> = {};
    const latin = new Map<Lang, number>();
    const all = new Map<Lang, number>();
    for (const e of examples) {
      all.set(e.lang, (all.get(e.lang) ?? 0) + 1);
      // Latin-script utterances of any language teach the Latin decision: Arabic typed as
      // Arabizi ("salam 3likom") must not be taken for English.
      if (dominantScript(e.text) !== 'latin') continue;
      latin.set(e.lang, (latin.get(e.lang) ?? 0) + 1);
      const table = (counts[e.lang] ??= {});
      for (const f of latinFeatures(e.text)) {
        table[f] = (table[f] ?? 0) + 1;
        totals[e.lang] = (totals[e.lang] ?? 0) + 1;
      }
    }
    const latinShare: Partial<Record<Lang, number>> = {};
    for (const l of langs) latinShare[l] = (latin.get(l) ?? 0) / (all.get(l) ?? 1);
    const detector = new LanguageDetector({
      langs,
      counts,
      totals,
      trigramWeight,
      latinShare,
      otherScriptPrior,
    });
    detector.json.switchMargin = detector.calibrateMargin(examples);
    return detector;
  }

  static fromJSON(json: LangIdJSON): LanguageDetector {
    return new LanguageDetector(json);
  }

  toJSON(): LangIdJSON {
    return this.json;
  }

  /** The languages this detector chooses among. */
  get langs(): readonly Lang[] {
    return this.json.langs;
  }

  /**
   * The most likely language of `text`. Case references and digits are masked first: a code
   * like "C-2KH3NZ" is no evidence of anything (its 2s and 3s look like Arabizi).
   *
   * `prior` is the conversation's language so far: it is kept unless the message gives clearly
   * stronger evidence for another one, by at least the margin calibrated at training. A lone
   * word shared by several languages ("ok", "menu", "taxi", "hello") then does not switch an
   * English conversation to French, while "bonjour" or "hola necesito ayuda" does. A message in
   * another script (Arabic, Cyrillic, Han) always switches. Text with no letters (a bare
   * "#48213") keeps the prior, or gets the model's first language.
   */
  detect(text: string, prior?: Lang): Lang {
    const langs = this.json.langs;
    const fallback = prior && langs.includes(prior) ? prior : (langs[0] ?? 'en');
    if (langs.length <= 1) return langs[0] ?? fallback;
    const clean = maskReferences(text, ' ').replace(/\p{N}+/gu, ' ');
    const topScript = dominantScript(clean);
    if (!topScript) return fallback;
    let candidates =
      topScript === 'latin'
        ? langs.filter((l) => SCRIPT_OF[l] === 'latin' || (this.json.latinShare[l] ?? 0) >= 0.02)
        : langs.filter((l) => SCRIPT_OF[l] === topScript);
    if (candidates.length === 0) {
      // A script none of the model's languages uses: fall back to what the letters allow.
      const latin = langs.filter((l) => SCRIPT_OF[l] === 'latin');
      candidates = latin.length > 0 ? latin : [...langs];
    }
    if (candidates.length === 1) return candidates[0] ?? fallback;
    const scores = this.scores(clean, candidates);
    let best: Lang = candidates[0] ?? fallback;
    for (const l of candidates) if ((scores.get(l) ?? -Infinity) > (scores.get(best) ?? -Infinity)) best = l;
    if (prior && prior !== best && scores.has(prior)) {
      const margin = (scores.get(best) ?? 0) - (scores.get(prior) ?? 0);
      if (margin < (this.json.switchMargin ?? 0)) return prior;
      // Latin letters moving a conversation to Arabic, Russian or Chinese (Arabizi, translit)
      // need a sentence: "ok" or "taxi" is as often typed by anyone.
      if (SCRIPT_OF[best] !== 'latin' && words(fold(clean)).length < 3) return prior;
    }
    return best;
  }

  /** Log-score per candidate language (higher is likelier). */
  private scores(text: string, candidates: readonly Lang[]): Map<Lang, number> {
    const feats = latinFeatures(text);
    const guesses = new Map<string, number>();
    if (this.json.trigramWeight > 0) {
      const native = candidates.filter((l) => SCRIPT_OF[l] === 'latin');
      if (native.length > 0) for (const g of trigrams().guess(text, native)) guesses.set(g.alpha2, g.score);
    }
    const out = new Map<Lang, number>();
    for (const l of candidates) {
      const table = this.json.counts[l] ?? {};
      const total = (this.json.totals[l] ?? 0) + this.vocabSize;
      let score = 0;
      for (const f of feats) {
        // Whole words are stronger evidence than single letters.
        const weight = f.startsWith('w:') ? 2 : 1;
        score += weight * Math.log(((table[f] ?? 0) + 0.1) / total);
      }
      if (feats.length > 0) score /= Math.sqrt(feats.length);
      if (SCRIPT_OF[l] === 'latin')
        score += this.json.trigramWeight * 10 * Math.log((guesses.get(l) ?? 0) + 0.01);
      // A language usually written in another script: the trigram profile has no opinion, so
      // the prior is how often its citizens wrote in Latin letters in the corpus.
      else
        score +=
          this.json.trigramWeight *
          10 *
          Math.log(this.json.otherScriptPrior * (this.json.latinShare[l] ?? 0) + 0.01);
      out.set(l, score);
    }
    return out;
  }

  /**
   * The margin a message needs to switch away from a prior language: the 5th percentile of the
   * winning margins of training utterances of three words or more that the detector gets right.
   * Real sentences in another language clear it 95% of the time; a lone word shared by two
   * languages rarely does.
   */
  private calibrateMargin(examples: readonly { text: string; lang: Lang }[]): number {
    const margins: number[] = [];
    for (const e of examples) {
      if (words(fold(e.text)).length < 3 || dominantScript(e.text) !== 'latin') continue;
      const candidates = this.json.langs.filter(
        (l) => SCRIPT_OF[l] === 'latin' || (this.json.latinShare[l] ?? 0) >= 0.02,
      );
      const scores = this.scores(e.text, candidates);
      const own = scores.get(e.lang);
      if (own === undefined) continue;
      let second = -Infinity;
      for (const [l, v] of scores) if (l !== e.lang) second = Math.max(second, v);
      if (Number.isFinite(second) && own > second) margins.push(own - second);
    }
    margins.sort((a, b) => a - b);
    return margins[Math.floor(margins.length * 0.05)] ?? 0;
  }
}
