/**
 * Narrow ambient declarations for the untyped @nlpjs packages: only what src/nlu uses.
 * Declared once here; code elsewhere imports these modules through src/nlu.
 */

declare module '@nlpjs/basic' {
  /** A plugin or class that can be `use`d by a container. */
  export type NlpjsPlugin = abstract new (...args: never[]) => object;

  export interface NlpjsNormalizer {
    normalize(text: string): string;
  }
  export interface NlpjsTokenizer {
    innerTokenize(text: string): string[];
  }
  export interface NlpjsStemmer {
    stem(tokens: string[]): string[];
  }

  /** One intent with its score, as NLP.js orders them. */
  export interface NlpjsClassification {
    intent: string;
    score: number;
  }

  /** The pipeline input NeuralNlu's synchronous steps read and write. */
  export interface NeuralNluInput {
    text: string;
    settings: Record<string, unknown>;
    tokens: Record<string, number>;
    classifications?: NlpjsClassification[];
  }

  /** NLP.js's single-layer network for one language (registered as "NeuralNlu"). */
  export interface NeuralNlu {
    settings: Record<string, unknown>;
    train(
      corpus: { utterance: string; intent: string }[],
      settings?: Record<string, unknown>,
    ): Promise<unknown>;
    process(utterance: string): Promise<{ classifications: NlpjsClassification[] }>;
    applySettings(target: Record<string, unknown>, source: Record<string, unknown>): Record<string, unknown>;
    textToFeatures(input: NeuralNluInput): NeuralNluInput;
    innerProcess(input: NeuralNluInput): NeuralNluInput;
    filterNonActivated(input: NeuralNluInput): NeuralNluInput;
    normalizeClassifications(input: NeuralNluInput): NeuralNluInput;
    toJSON(): object;
    fromJSON(json: object): void;
  }

  export class Container {
    constructor(hasPreffix?: boolean);
    use(item: NlpjsPlugin | object, name?: string, isSingleton?: boolean): string;
    get(name: 'NeuralNlu', settings: Record<string, unknown>): NeuralNlu;
    get(name: `normalizer-${string}`): NlpjsNormalizer | undefined;
    get(name: `tokenizer-${string}`): NlpjsTokenizer | undefined;
    get(name: `stemmer-${string}`): NlpjsStemmer | undefined;
  }

  export const Normalizer: NlpjsPlugin;
  export const Tokenizer: NlpjsPlugin;
  export const Stemmer: NlpjsPlugin;
  export const Stopwords: NlpjsPlugin;
  export const ArrToObj: NlpjsPlugin;
  export const LangEn: NlpjsPlugin;

  /** The result of `Nlp.process`, reduced to what the benchmark reads. */
  export interface NlpResult {
    intent: string;
    score: number;
    locale?: string;
  }

  export class Nlp {
    constructor(settings?: {
      container?: Container;
      languages?: string[];
      autoSave?: boolean;
      autoLoad?: boolean;
      nlu?: { log?: boolean };
      forceNER?: boolean;
    });
    settings: { threshold: number };
    use(plugin: NlpjsPlugin): void;
    addLanguage(locales: string | string[]): void;
    addDocument(locale: string, utterance: string, intent: string): void;
    train(): Promise<unknown>;
    process(locale: string, utterance: string): Promise<NlpResult>;
  }
}

declare module '@nlpjs/lang-fr' {
  export const LangFr: new (...args: never[]) => object;
}
declare module '@nlpjs/lang-es' {
  export const LangEs: new (...args: never[]) => object;
}
declare module '@nlpjs/lang-ar' {
  export const LangAr: new (...args: never[]) => object;
}
declare module '@nlpjs/lang-ru' {
  export const LangRu: new (...args: never[]) => object;
}
declare module '@nlpjs/lang-zh' {
  export const LangZh: new (...args: never[]) => object;
}

declare module '@nlpjs/language' {
  export interface LanguageGuess {
    alpha3: string;
    alpha2: string;
    language: string;
    score: number;
  }
  export class Language {
    guess(utterance: string, allowList?: string[], limit?: number): LanguageGuess[];
  }
}
