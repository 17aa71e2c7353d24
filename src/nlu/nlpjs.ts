/**
 * The NLP.js foundation: one NeuralNlu (@nlpjs/basic's single-layer network over word stems)
 * per language. Training goes through NLP.js itself; prediction runs NeuralNlu's own
 * synchronous steps directly, because `process()` is async only for its tokenizer pipeline
 * and the product needs a synchronous `classify` after load.
 */
import {
  ArrToObj,
  Container,
  LangEn,
  Nlp,
  Normalizer,
  Stemmer,
  Stopwords,
  Tokenizer,
  type NeuralNlu,
  type NeuralNluInput,
  type NlpjsNormalizer,
  type NlpjsStemmer,
  type NlpjsTokenizer,
} from '@nlpjs/basic';
import { LangAr } from '@nlpjs/lang-ar';
import { LangEs } from '@nlpjs/lang-es';
import { LangFr } from '@nlpjs/lang-fr';
import { LangRu } from '@nlpjs/lang-ru';
import type { Lang } from './catalog.js';
import { NormalizerZhLite, StemmerZhLite, TokenizerZhLite } from './zh.js';

let shared: Container | undefined;

/** One container for all languages: plugins are stateless, so sharing saves memory. */
function container(): Container {
  if (shared) return shared;
  const c = new Container();
  for (const plugin of [
    Normalizer,
    Tokenizer,
    Stemmer,
    Stopwords,
    ArrToObj,
    LangEn,
    LangFr,
    LangEs,
    LangAr,
    LangRu,
  ]) {
    c.use(plugin);
  }
  for (const plugin of [new NormalizerZhLite(), new TokenizerZhLite(), new StemmerZhLite()]) c.use(plugin);
  // Constructing Nlp registers NeuralNlu in the container; the instance itself is not used.
  new Nlp({ container: c, autoSave: false, autoLoad: false });
  shared = c;
  return c;
}

interface Pipeline {
  normalizer: NlpjsNormalizer;
  tokenizer: NlpjsTokenizer;
  stemmer: NlpjsStemmer;
}

function pipeline(lang: Lang): Pipeline {
  const c = container();
  const normalizer = c.get(`normalizer-${lang}`);
  const tokenizer = c.get(`tokenizer-${lang}`);
  const stemmer = c.get(`stemmer-${lang}`);
  if (!normalizer || !tokenizer || !stemmer) throw new Error(`NLP.js has no pipeline for "${lang}"`);
  return { normalizer, tokenizer, stemmer };
}

/** NLP.js features of a text: the stems NeuralNlu's prepare step would produce. */
export function nlpjsStems(lang: Lang, text: string): string[] {
  const p = pipeline(lang);
  return p.stemmer.stem(p.tokenizer.innerTokenize(p.normalizer.normalize(text))).filter((t) => t.length > 0);
}

/** Settings for our NeuralNlu: NLP.js defaults, with the None feature for unknown words. */
const NLU_SETTINGS = { log: false, useNoneFeature: true, spellCheck: false };

/** A trained NeuralNlu for one language with a synchronous `predict`. */
export class NlpjsIntentModel {
  private constructor(
    readonly lang: Lang,
    private readonly nlu: NeuralNlu,
  ) {}

  /** Trains NLP.js's network on labelled utterances (label `None` = out of scope). */
  static async train(
    lang: Lang,
    examples: readonly { text: string; intent: string }[],
  ): Promise<NlpjsIntentModel> {
    const nlu = container().get('NeuralNlu', { locale: lang, ...NLU_SETTINGS });
    await nlu.train(examples.map((e) => ({ utterance: e.text, intent: e.intent })));
    return new NlpjsIntentModel(lang, nlu);
  }

  /** Restores a model saved with {@link toJSON}. */
  static fromJSON(lang: Lang, json: object): NlpjsIntentModel {
    const nlu = container().get('NeuralNlu', { locale: lang, ...NLU_SETTINGS });
    nlu.fromJSON(json);
    return new NlpjsIntentModel(lang, nlu);
  }

  /** NLP.js's normalised scores per intent (they sum to 1; absent intents scored 0). */
  predict(text: string): Map<string, number> {
    const tokens: Record<string, number> = {};
    for (const stem of nlpjsStems(this.lang, text)) tokens[stem] = 1;
    const input: NeuralNluInput = { text, settings: this.nlu.applySettings({}, this.nlu.settings), tokens };
    this.nlu.textToFeatures(input);
    this.nlu.innerProcess(input);
    this.nlu.filterNonActivated(input);
    this.nlu.normalizeClassifications(input);
    const out = new Map<string, number>();
    for (const c of input.classifications ?? []) out.set(c.intent, c.score);
    return out;
  }

  /** The asynchronous NLP.js path, kept to check that {@link predict} matches it. */
  async predictViaNlpjs(text: string): Promise<Map<string, number>> {
    const result = await this.nlu.process(text);
    return new Map(result.classifications.map((c) => [c.intent, c.score]));
  }

  toJSON(): object {
    return this.nlu.toJSON();
  }
}
