import { NONE, type Classification, type Lang } from './catalog.js';

/** The part of the intent model a turn needs (see {@link IntentModel} in ./index.ts). */
export interface Understanding {
  classify(text: string, opts?: { lang?: Lang }): Classification;
  /** The message's language; `prior` is kept unless the message clearly says otherwise. */
  detectLanguage(text: string, prior?: Lang): Lang;
}

/** What a turn knows of the language before reading the message. */
export interface LanguageChoice {
  /** The language the citizen chose: it wins. */
  chosen?: Lang | undefined;
  /** What the conversation speaks so far (or the device's language, or English). */
  prior: Lang;
}

/** The language a turn answers in, and what the message asks. */
export interface Understood {
  lang: Lang;
  nlu: Classification;
}

/** Reads one message: in this thread ({@link understandWith}) or in a worker (./threaded.ts). */
export interface Understander {
  understand(text: string, choice: LanguageChoice): Understood | Promise<Understood>;
}

/**
 * The citizen's chosen language wins; otherwise the message is weighed against what the conversation
 * already speaks, so "ok" or "2" never switches language and "bonjour, j'ai un problème" does. Then
 * the message is classified in that language (an empty one is None).
 */
export function understand(model: Understanding, text: string, choice: LanguageChoice): Understood {
  const lang =
    choice.chosen ?? (/\p{L}/u.test(text) ? model.detectLanguage(text, choice.prior) : choice.prior);
  const nlu: Classification = text
    ? model.classify(text, { lang })
    : { text, intent: NONE, score: 0, lang, references: [] };
  return { lang, nlu };
}

/** An {@link Understander} running `model` in the calling thread. */
export function understandWith(model: Understanding): Understander {
  return { understand: (text, choice) => understand(model, text, choice) };
}

/** Either kind, as the app accepts it: a model (run in this thread) or an understander. */
export function asUnderstander(nlu: Understanding | Understander): Understander {
  return 'understand' in nlu ? nlu : understandWith(nlu);
}
