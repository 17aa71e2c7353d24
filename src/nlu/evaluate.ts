/**
 * Held-out evaluation: in-scope accuracy, out-of-scope recall and precision per language,
 * language detection on messages of three words or more, and the worst confusions.
 */
import { type Lang, NONE } from './catalog.js';
import type { Corpus, Example } from './corpus.js';
import { isHan } from './text.js';

/** The project's targets (issue 2). */
export const TARGETS = {
  inScopeOverall: 0.92,
  inScopePerLang: 0.85,
  oosRecall: 0.85,
  oosPrecision: 0.85,
  langDetection: 0.97,
} as const;

/** What the evaluation needs from a model. */
export interface Classifier {
  classifyRaw(text: string, opts?: { lang?: Lang }): { intent: string };
  detectLanguage(text: string): Lang;
}

/** Figures for one language (or all together). */
export interface LangReport {
  lang: Lang | 'all';
  inScope: number;
  inScopeCorrect: number;
  oos: number;
  oosCaught: number;
  predictedNone: number;
  langTested: number;
  langCorrect: number;
}

/** The full evaluation. */
export interface EvalReport {
  perLang: LangReport[];
  overall: LangReport;
  confusions: { gold: string; predicted: string; count: number; example: string }[];
  failures: string[];
}

/** Words in a message; a run of Han characters counts one word per two characters. */
export function wordCount(text: string): number {
  let count = 0;
  for (const token of text.trim().split(/\s+/u)) {
    if (!token) continue;
    const han = Array.from(token).filter((ch) => isHan(ch)).length;
    const rest = token.replace(/[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/gu, '');
    count += Math.ceil(han / 2) + (/[\p{L}\p{N}]/u.test(rest) ? 1 : 0);
  }
  return count;
}

/** Ratio as a percentage string with one decimal. */
export function pct(num: number, den: number): string {
  return den === 0 ? '—' : `${((100 * num) / den).toFixed(1)}%`;
}

function empty(lang: Lang | 'all'): LangReport {
  return {
    lang,
    inScope: 0,
    inScopeCorrect: 0,
    oos: 0,
    oosCaught: 0,
    predictedNone: 0,
    langTested: 0,
    langCorrect: 0,
  };
}

/**
 * Evaluates a model on the held-out tests of the corpora. Intent figures use the corpus's
 * language (as when the citizen chose it); language detection is measured separately.
 */
export function evaluate(model: Classifier, corpora: readonly Corpus[]): EvalReport {
  const perLang: LangReport[] = [];
  const overall = empty('all');
  const conf = new Map<string, { gold: string; predicted: string; count: number; example: string }>();
  for (const c of corpora) {
    const r = empty(c.lang);
    for (const e of c.test) {
      const predicted = model.classifyRaw(e.text, { lang: c.lang }).intent;
      if (predicted === NONE) r.predictedNone += 1;
      if (e.intent === NONE) {
        r.oos += 1;
        if (predicted === NONE) r.oosCaught += 1;
      } else {
        r.inScope += 1;
        if (predicted === e.intent) r.inScopeCorrect += 1;
      }
      if (predicted !== e.intent) {
        const key = `${c.lang}\u0000${e.intent}\u0000${predicted}`;
        const prev = conf.get(key);
        if (prev) prev.count += 1;
        else conf.set(key, { gold: `${c.lang}:${e.intent}`, predicted, count: 1, example: e.text });
      }
      if (wordCount(e.text) >= 3) {
        r.langTested += 1;
        if (model.detectLanguage(e.text) === c.lang) r.langCorrect += 1;
      }
    }
    perLang.push(r);
    for (const k of [
      'inScope',
      'inScopeCorrect',
      'oos',
      'oosCaught',
      'predictedNone',
      'langTested',
      'langCorrect',
    ] as const) {
      overall[k] += r[k];
    }
  }
  const failures: string[] = [];
  const ratio = (a: number, b: number): number => (b === 0 ? 1 : a / b);
  if (ratio(overall.inScopeCorrect, overall.inScope) < TARGETS.inScopeOverall) {
    failures.push(
      `overall in-scope accuracy ${pct(overall.inScopeCorrect, overall.inScope)} < ${TARGETS.inScopeOverall * 100}%`,
    );
  }
  for (const r of perLang) {
    if (ratio(r.inScopeCorrect, r.inScope) < TARGETS.inScopePerLang) {
      failures.push(
        `${r.lang} in-scope accuracy ${pct(r.inScopeCorrect, r.inScope)} < ${TARGETS.inScopePerLang * 100}%`,
      );
    }
  }
  if (ratio(overall.oosCaught, overall.oos) < TARGETS.oosRecall) {
    failures.push(`out-of-scope recall ${pct(overall.oosCaught, overall.oos)} < ${TARGETS.oosRecall * 100}%`);
  }
  if (ratio(overall.oosCaught, overall.predictedNone) < TARGETS.oosPrecision) {
    failures.push(
      `out-of-scope precision ${pct(overall.oosCaught, overall.predictedNone)} < ${TARGETS.oosPrecision * 100}%`,
    );
  }
  if (ratio(overall.langCorrect, overall.langTested) < TARGETS.langDetection) {
    failures.push(
      `language detection ${pct(overall.langCorrect, overall.langTested)} < ${TARGETS.langDetection * 100}%`,
    );
  }
  if (overall.inScope + overall.oos === 0) failures.push('no held-out test utterances to evaluate');
  const confusions = [...conf.values()].sort((a, b) => b.count - a.count).slice(0, 12);
  return { perLang, overall, confusions, failures };
}

/** Renders a report as a Markdown table plus the confusions, for the terminal and BENCHMARKS.md. */
export function formatReport(report: EvalReport): string {
  const lines = [
    '| lang | tests | in-scope acc | OOS recall | OOS precision | lang detection (≥3 words) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of [...report.perLang, report.overall]) {
    lines.push(
      `| ${r.lang} | ${r.inScope + r.oos} | ${pct(r.inScopeCorrect, r.inScope)} | ${pct(r.oosCaught, r.oos)} | ` +
        `${pct(r.oosCaught, r.predictedNone)} | ${pct(r.langCorrect, r.langTested)} |`,
    );
  }
  lines.push('', 'Worst confusions (gold → predicted, count, example):');
  for (const c of report.confusions) lines.push(`- ${c.gold} → ${c.predicted} ×${c.count}: "${c.example}"`);
  return lines.join('\n');
}

/**
 * For a corpus without a `tests` section (a public benchmark as published), holds out every
 * fifth utterance of each intent, deterministically, so evaluation still uses unseen data.
 */
export function holdOutIfNoTests(corpus: Corpus): Corpus {
  if (corpus.test.length > 0) return corpus;
  const train: Example[] = [];
  const test: Example[] = [];
  const seen = new Map<string, number>();
  for (const e of corpus.train) {
    const n = seen.get(e.intent) ?? 0;
    seen.set(e.intent, n + 1);
    (n % 5 === 4 ? test : train).push(e);
  }
  // The training set differs from the file's: so must the cache key.
  return { ...corpus, train, test, digest: `${corpus.digest}:holdout5` };
}
