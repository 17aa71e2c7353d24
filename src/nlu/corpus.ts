/**
 * Training corpora in NLP.js's JSON format, parsed once at the edge. A content team may bring
 * any corpus (a public benchmark, another government's pack), so intent names are free-form;
 * out-of-scope examples may be marked `None` (NLP.js) or `oos` (CLINC150 and others).
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { type Lang, LANGS, NONE, isLang } from './catalog.js';

const CorpusSchema = z.object({
  name: z.string().optional(),
  locale: z.string().min(2),
  data: z.array(
    z.object({
      intent: z.string().min(1),
      utterances: z.array(z.string()).default([]),
      tests: z.array(z.string()).optional(),
    }),
  ),
});

/** One labelled utterance. `intent` is `None` for out-of-scope. */
export interface Example {
  text: string;
  intent: string;
  lang: Lang;
}

/** A parsed corpus: training examples and held-out test examples for one language. */
export interface Corpus {
  /** Where it came from (a path), for messages. */
  source: string;
  lang: Lang;
  train: Example[];
  /** Held-out examples; empty when the corpus has no `tests`. */
  test: Example[];
  /** SHA-256 of the raw file, part of the model cache key. */
  digest: string;
}

/** A corpus file that cannot be used, with a message that says what to fix. */
export class CorpusError extends Error {
  constructor(
    readonly source: string,
    detail: string,
  ) {
    super(`${source}: ${detail}`);
    this.name = 'CorpusError';
  }
}

/** Out-of-scope labels used by common corpora, all mapped to `None`. */
const OOS_LABELS = new Set(['none', 'oos', 'out_of_scope', 'out-of-scope']);

/** Maps an intent label of any corpus to ours: out-of-scope spellings become `None`. */
export function normalizeLabel(intent: string): string {
  return OOS_LABELS.has(intent.trim().toLowerCase()) ? NONE : intent.trim();
}

/**
 * Parses corpus JSON text. The locale may be regional ("en-US"); only its language matters and
 * it must be one of the six.
 */
export function parseCorpus(raw: string, source: string): Corpus {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new CorpusError(source, `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = CorpusSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CorpusError(
      source,
      `not an NLP.js corpus: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unexpected shape'} ` +
        '(expected {"locale","data":[{"intent","utterances":[...],"tests"?:[...]}]})',
    );
  }
  const code = parsed.data.locale.slice(0, 2).toLowerCase();
  if (!isLang(code)) {
    throw new CorpusError(source, `locale "${parsed.data.locale}" is not one of ${LANGS.join(', ')}`);
  }
  const train: Example[] = [];
  const test: Example[] = [];
  for (const item of parsed.data.data) {
    const intent = normalizeLabel(item.intent);
    for (const text of item.utterances) if (text.trim()) train.push({ text, intent, lang: code });
    for (const text of item.tests ?? []) if (text.trim()) test.push({ text, intent, lang: code });
  }
  if (train.length === 0) throw new CorpusError(source, 'has no training utterances');
  return { source, lang: code, train, test, digest: createHash('sha256').update(raw).digest('hex') };
}

/** Reads and parses one corpus file; a missing or unreadable file is a {@link CorpusError}. */
export async function readCorpus(path: string): Promise<Corpus> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    throw new CorpusError(
      path,
      code === 'ENOENT' ? 'file not found' : `cannot be read (${code || String(err)})`,
    );
  }
  return parseCorpus(raw, path);
}

/** Lists the `<lang>.json` corpus files of a directory, in the catalog's language order. */
export async function listCorpusFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    throw new CorpusError(dir, 'corpus directory not found');
  }
  const files = LANGS.filter((l) => names.includes(`${l}.json`)).map((l) => join(dir, `${l}.json`));
  if (files.length === 0)
    throw new CorpusError(dir, `no corpus files (${LANGS.map((l) => `${l}.json`).join(', ')})`);
  return files;
}

/**
 * Merges corpora by language (two files may feed one language) and returns them in catalog
 * order.
 */
export function mergeByLang(corpora: Corpus[]): Corpus[] {
  const byLang = new Map<Lang, Corpus>();
  for (const c of corpora) {
    const prev = byLang.get(c.lang);
    byLang.set(
      c.lang,
      prev
        ? {
            source: `${prev.source}+${basename(c.source)}`,
            lang: c.lang,
            train: [...prev.train, ...c.train],
            test: [...prev.test, ...c.test],
            digest: createHash('sha256').update(prev.digest).update(c.digest).digest('hex'),
          }
        : c,
    );
  }
  return LANGS.flatMap((l) => {
    const c = byLang.get(l);
    return c ? [c] : [];
  });
}
