/**
 * Intent-model benchmark: our model and a default @nlpjs/basic pipeline side by side, on the
 * same train/test split (the corpora's utterances / held-out tests), in one run. Each side runs
 * in its own child process so start-up time and memory are measured cleanly.
 *
 *   npx tsx scripts/bench-nlu.ts            prints the section and updates BENCHMARKS.md
 *   import { benchNlu } from './bench-nlu.js'  returns the Markdown section (for npm run bench)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { LangAr } from '@nlpjs/lang-ar';
import { LangEs } from '@nlpjs/lang-es';
import { LangFr } from '@nlpjs/lang-fr';
import { LangRu } from '@nlpjs/lang-ru';
import { LangZh } from '@nlpjs/lang-zh';
import { LangEn, Nlp } from '@nlpjs/basic';
import { NONE } from '../src/nlu/catalog.js';
import type { Corpus } from '../src/nlu/corpus.js';
import { loadIntentModel, readCorpora } from '../src/nlu/index.js';
import { fold } from '../src/nlu/text.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

const ProbeResult = z.object({
  name: z.string(),
  inScope: z.number(),
  inScopeCorrect: z.number(),
  oos: z.number(),
  oosCaught: z.number(),
  predictedNone: z.number(),
  noisyCorrect: z.number(),
  p50: z.number(),
  p99: z.number(),
  coldStartMs: z.number(),
  trainMs: z.number().nullable(),
  rssMb: z.number(),
});
type ProbeResult = z.infer<typeof ProbeResult>;

/** A phone-style variant of a test utterance: no accents and one swapped letter pair. */
function noisy(text: string, i: number): string {
  const t = fold(text);
  const at = 1 + (i % Math.max(1, t.length - 3));
  if (t.length < 5 || t[at] === ' ' || t[at + 1] === ' ') return t;
  return `${t.slice(0, at)}${t[at + 1] ?? ''}${t[at] ?? ''}${t.slice(at + 2)}`;
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

async function score(
  name: string,
  corpora: readonly Corpus[],
  classify: (text: string, lang: Corpus['lang']) => Promise<string> | string,
  coldStartMs: number,
  trainMs: number | null,
): Promise<ProbeResult> {
  const r = { inScope: 0, inScopeCorrect: 0, oos: 0, oosCaught: 0, predictedNone: 0, noisyCorrect: 0 };
  // Warm-up pass (JIT, tokenizer caches), then the timed pass.
  for (const c of corpora) for (const e of c.test.slice(0, 50)) await classify(e.text, c.lang);
  const times: number[] = [];
  let i = 0;
  for (const c of corpora) {
    for (const e of c.test) {
      const t0 = performance.now();
      const predicted = await classify(e.text, c.lang);
      times.push(performance.now() - t0);
      if (predicted === NONE) r.predictedNone += 1;
      if (e.intent === NONE) {
        r.oos += 1;
        if (predicted === NONE) r.oosCaught += 1;
      } else {
        r.inScope += 1;
        if (predicted === e.intent) r.inScopeCorrect += 1;
        if ((await classify(noisy(e.text, i), c.lang)) === e.intent) r.noisyCorrect += 1;
      }
      i += 1;
    }
  }
  times.sort((a, b) => a - b);
  return {
    name,
    ...r,
    p50: percentile(times, 0.5),
    p99: percentile(times, 0.99),
    coldStartMs,
    trainMs,
    rssMb: process.memoryUsage().rss / 1e6,
  };
}

/** Child process: our model, loaded from the cache (trained first by the parent if needed). */
async function probeOurs(): Promise<ProbeResult> {
  const t0 = performance.now();
  const model = await loadIntentModel();
  const loadMs = performance.now() - t0;
  // Cold start = process start (performance.now()'s origin) to answering in every language.
  for (const lang of model.langs) model.classify('hello', { lang });
  const ready = performance.now();
  const corpora = await readCorpora();
  const result = await score(
    'this project (TF-IDF logistic regression + nearest neighbours)',
    corpora,
    (text, lang) => model.classify(text, { lang }).intent,
    ready,
    null,
  );
  process.stderr.write(`model load ${loadMs.toFixed(0)} ms\n`);
  return result;
}

/** Child process: a default @nlpjs/basic pipeline (Nlp, default settings, threshold 0.5). */
async function probeNlpjs(): Promise<ProbeResult> {
  const corpora = await readCorpora();
  const nlp = new Nlp({
    languages: corpora.map((c) => c.lang),
    autoSave: false,
    autoLoad: false,
    nlu: { log: false },
  });
  for (const plugin of [LangEn, LangFr, LangEs, LangAr, LangRu, LangZh]) nlp.use(plugin);
  for (const c of corpora) for (const e of c.train) nlp.addDocument(c.lang, e.text, e.intent);
  const t0 = performance.now();
  await nlp.train();
  const trainMs = performance.now() - t0;
  const ready = performance.now();
  return score(
    'default @nlpjs/basic',
    corpora,
    async (text, lang) => {
      const r = await nlp.process(lang, text);
      return r.intent;
    },
    ready,
    trainMs,
  );
}

function runProbe(kind: 'ours' | 'nlpjs'): ProbeResult {
  const r = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [SELF, '--probe', kind], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    timeout: 30 * 60_000,
  });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return ProbeResult.parse(JSON.parse(line));
  } catch {
    throw new Error(`benchmark probe "${kind}" failed (exit ${String(r.status)}):\n${r.stderr.slice(-2000)}`);
  }
}

const pct = (a: number, b: number): string => (b === 0 ? '—' : `${((100 * a) / b).toFixed(1)}%`);

/**
 * Runs the benchmark and returns the "Intent model" section of BENCHMARKS.md.
 *
 * @example const md = await benchNlu();
 */
export async function benchNlu(): Promise<string> {
  const corpora = await readCorpora();
  // Make sure the cache exists, so the probe measures a cached start.
  const trainStart = performance.now();
  const trained = await loadIntentModel();
  const ourTrainMs = trained.fromCache ? null : performance.now() - trainStart;
  const ours = runProbe('ours');
  if (ourTrainMs !== null) ours.trainMs = ourTrainMs;
  const base = runProbe('nlpjs');
  const rows: [string, (r: ProbeResult) => string][] = [
    ['in-scope accuracy', (r) => pct(r.inScopeCorrect, r.inScope)],
    ['out-of-scope recall', (r) => pct(r.oosCaught, r.oos)],
    ['out-of-scope precision', (r) => pct(r.oosCaught, r.predictedNone)],
    ['in-scope accuracy, typo + no accents', (r) => pct(r.noisyCorrect, r.inScope)],
    ['classify p50', (r) => `${r.p50.toFixed(2)} ms`],
    ['classify p99', (r) => `${r.p99.toFixed(2)} ms`],
    ['process start → ready (six languages)', (r) => `${(r.coldStartMs / 1000).toFixed(2)} s`],
    [
      'training (six languages)',
      (r) => (r.trainMs === null ? 'cached' : `${(r.trainMs / 1000).toFixed(1)} s`),
    ],
    ['RSS after the test set', (r) => `${r.rssMb.toFixed(0)} MB`],
  ];
  const tests = corpora.reduce((n, c) => n + c.test.length, 0);
  const lines = [
    '## Intent model',
    '',
    `Run ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ` +
      `${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}. Same split for both: trained on the ` +
      `corpora's utterances (${corpora.map((c) => c.lang).join(', ')}), scored on their ${tests} held-out tests ` +
      '(language given, as when the citizen chose it). "Ready" is measured from process start for ours ' +
      '(loading the cached model) and from the end of training for NLP.js (it has no cache of its own here). ' +
      'Reproduce: `npx tsx scripts/bench-nlu.ts`.',
    '',
    `| measure | ${ours.name} | ${base.name} |`,
    '| --- | ---: | ---: |',
    ...rows.map(([label, f]) => `| ${label} | ${f(ours)} | ${f(base)} |`),
    '',
    'Public multi-domain benchmark with out-of-scope queries (e.g. CLINC150): no npm package ships one ' +
      '(searched the registry index for clinc/oos/intent datasets), and nothing may be downloaded at run time, ' +
      'so it is not run here. To run one: `npm run -s nlu -- eval --corpus FILE` with the benchmark converted ' +
      'to NLP.js corpus JSON (`oos` is read as None; a corpus without `tests` has every fifth utterance held out).',
    '',
  ];
  return lines.join('\n');
}

/** Replaces (or appends) the "## Intent model" section of BENCHMARKS.md. */
function writeSection(section: string): void {
  const file = join(ROOT, 'BENCHMARKS.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n';
  const start = current.indexOf('## Intent model');
  if (start === -1) {
    writeFileSync(file, `${current.trimEnd()}\n\n${section}`);
    return;
  }
  const next = current.indexOf('\n## ', start + 1);
  writeFileSync(
    file,
    `${current.slice(0, start)}${section.trimEnd()}\n${next === -1 ? '' : `\n${current.slice(next + 1)}`}`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const probe = process.argv[2] === '--probe' ? process.argv[3] : undefined;
  if (probe === 'ours' || probe === 'nlpjs') {
    const result = probe === 'ours' ? await probeOurs() : await probeNlpjs();
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const section = await benchNlu();
    process.stdout.write(section);
    writeSection(section);
  }
}
