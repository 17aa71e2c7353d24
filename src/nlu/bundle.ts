/**
 * All languages together: one {@link LangModel} per corpus language plus the language detector,
 * saved and loaded as one JSON document.
 */
import { z } from 'zod';
import { type Lang, LANGS, NONE, isLang } from './catalog.js';
import type { Corpus } from './corpus.js';
import { LanguageDetector, type LangIdJSON } from './langid.js';
import {
  LangModel,
  type LangModelJSON,
  type LangModelMeta,
  type TrainOptions,
  stepsPerLanguage,
  trainLangModel,
} from './model.js';
import { extractReferences } from './references.js';

/** Bumped when the saved format or the training method changes meaning. */
export const MODEL_FORMAT = 'civic-nlu/5';

/** Longest text classified; longer messages are cut (a 10 kB paste is not an intent). */
export const MAX_CLASSIFY_CHARS = 1000;

/** Training progress, reported per step (one cross-validation fold or one final fit). */
export interface TrainProgress {
  done: number;
  total: number;
  stage: string;
}

/** The saved model. */
export interface BundleJSON {
  format: string;
  key: string;
  createdAt: string;
  corpora: { source: string; lang: Lang; digest: string; train: number; test: number }[];
  langid: LangIdJSON;
  models: LangModelJSON[];
}

const BundleSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  key: z.string(),
  createdAt: z.string(),
  corpora: z.array(
    z.object({
      source: z.string(),
      lang: z.enum(LANGS),
      digest: z.string(),
      train: z.number(),
      test: z.number(),
    }),
  ),
  langid: z.object({
    langs: z.array(z.enum(LANGS)),
    counts: z.partialRecord(z.enum(LANGS), z.record(z.string(), z.number())),
    totals: z.partialRecord(z.enum(LANGS), z.number()),
    trigramWeight: z.number(),
    latinShare: z.partialRecord(z.enum(LANGS), z.number()),
    otherScriptPrior: z.number(),
    switchMargin: z.number().optional(),
  }),
  models: z.array(
    z.object({
      lang: z.enum(LANGS),
      labels: z.array(z.string()),
      features: z.object({
        charMin: z.number(),
        charMax: z.number(),
        bigrams: z.boolean(),
        stems: z.boolean(),
      }),
      vocab: z.string(),
      idf: z.string(),
      weights: z.string(),
      bias: z.array(z.number()),
      noneBias: z.number(),
      threshold: z.number(),
      calibration: z.object({ a: z.number(), b: z.number() }),
      knnWeight: z.number().optional(),
      knn: z
        .object({
          offsets: z.string(),
          idx: z.string(),
          val: z.string(),
          ys: z.string(),
          wide: z.boolean().optional(),
        })
        .optional(),
      cv: z.object({
        inScopeAccuracy: z.number(),
        oosRecall: z.number(),
        oosPrecision: z.number(),
        examples: z.number(),
      }),
    }),
  ),
});

/** Parses a saved model; throws with the first problem when the file is not one of ours. */
export function parseBundle(text: string): BundleJSON {
  const json: unknown = JSON.parse(text);
  const parsed = BundleSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `not a ${MODEL_FORMAT} model${issue ? ` (${issue.path.join('.')}: ${issue.message})` : ''}`,
    );
  }
  return parsed.data;
}

/**
 * Trains every language of the corpora (each must be one language; see mergeByLang). The
 * language detector learns from `detectorCorpora` (default: the same corpora), so that a
 * training split over several workers still gives one detector over all languages.
 */
export async function trainBundle(
  corpora: readonly Corpus[],
  key: string,
  opts: TrainOptions = {},
  onProgress: (p: TrainProgress) => void = () => undefined,
  detectorCorpora: readonly Corpus[] = corpora,
): Promise<BundleJSON> {
  const total = corpora.length * stepsPerLanguage(opts) + 1;
  let done = 0;
  const models: LangModelJSON[] = [];
  for (const c of corpora) {
    models.push(
      trainLangModel(c.lang, c.train, opts, (stage) => {
        done += 1;
        onProgress({ done, total, stage });
      }),
    );
  }
  const langid = LanguageDetector.train(detectorCorpora.flatMap((c) => c.train)).toJSON();
  onProgress({ done: total, total, stage: 'language detector' });
  return {
    format: MODEL_FORMAT,
    key,
    createdAt: new Date().toISOString(),
    corpora: corpora.map((c) => ({
      source: c.source,
      lang: c.lang,
      digest: c.digest,
      train: c.train.length,
      test: c.test.length,
    })),
    langid,
    models,
  };
}

/** A loaded model's description without its weights (what reports and the CLI read). */
export type BundleSummary = Omit<BundleJSON, 'models'> & { models: LangModelMeta[] };

/** What the bundle says about one message; intent labels are whatever the corpora used. */
export interface RawClassification {
  text: string;
  intent: string;
  score: number;
  lang: Lang;
  references: string[];
}

/** A loaded model: synchronous classification in any of its languages. */
export class ModelBundle {
  private readonly models: Map<Lang, LangModel>;
  private readonly detector: LanguageDetector;

  /** The model's description; the weights themselves are not kept twice in memory. */
  readonly summary: BundleSummary;

  constructor(json: BundleJSON) {
    this.models = new Map(json.models.map((m) => [m.lang, LangModel.fromJSON(m)]));
    this.detector = LanguageDetector.fromJSON(json.langid);
    this.summary = { ...json, models: [...this.models.values()].map((m) => m.json) };
  }

  /** Languages the model was trained on, in catalog order. */
  get langs(): Lang[] {
    return LANGS.filter((l) => this.models.has(l));
  }

  /** Every label the model can answer, None included. */
  get labels(): string[] {
    const all = new Set<string>([NONE]);
    for (const m of this.models.values()) for (const l of m.labels) all.add(l);
    return [...all].sort();
  }

  /** See {@link LanguageDetector.detect}: `prior` is the conversation's language so far. */
  detectLanguage(text: string, prior?: Lang): Lang {
    const lang = this.detector.detect(text.slice(0, MAX_CLASSIFY_CHARS), prior);
    return this.models.has(lang) ? lang : (this.langs[0] ?? lang);
  }

  /**
   * Classifies one message. `lang` forces the language (the citizen chose one); a language
   * the model lacks falls back to detection.
   */
  classify(text: string, lang?: Lang): RawClassification {
    const cut = text.slice(0, MAX_CLASSIFY_CHARS);
    const chosen = lang && isLang(lang) && this.models.has(lang) ? lang : this.detectLanguage(cut);
    const references = extractReferences(cut);
    const model = this.models.get(chosen);
    if (!model || cut.trim() === '') return { text, intent: NONE, score: 1, lang: chosen, references };
    const d = model.classify(cut);
    return { text, intent: d.intent, score: d.score, lang: chosen, references };
  }
}
