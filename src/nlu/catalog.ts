/**
 * The contract of the demo content pack (see shared/intents.md): the six UN languages and the intent IDs.
 * Code refers to these; corpora in intents/ and strings in locales/ are keyed by them.
 */
export const LANGS = ['en', 'fr', 'es', 'ar', 'ru', 'zh'] as const;
export type Lang = (typeof LANGS)[number];

export const INTENTS = [
  'greet',
  'bye',
  'thanks',
  'help',
  'agent.human',
  'language.change',
  'privacy.erase',
  'complaint.file',
  'case.status',
  'suggestion.submit',
  'service.passport',
  'service.id_card',
  'service.birth_certificate',
  'service.driving_license',
  'service.business',
  'service.tax',
  'service.benefits',
  'service.health',
  'service.school',
  'service.utilities',
  'office.hours',
  'appointment.book',
] as const;
export type IntentId = (typeof INTENTS)[number];
/** What the model answers for anything out of scope. */
export const NONE = 'None';
export type IntentOrNone = IntentId | typeof NONE;

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (LANGS as readonly string[]).includes(value);
}

export function isIntent(value: unknown): value is IntentId {
  return typeof value === 'string' && (INTENTS as readonly string[]).includes(value);
}

/** What the shared model says about one utterance. */
export interface Classification {
  text: string;
  intent: IntentOrNone;
  /** Calibrated confidence in [0, 1]. */
  score: number;
  /** Detected language of the utterance. */
  lang: Lang;
  /** Case references found in the text, normalized (e.g. "C-7K4P9Q", "C-2024-00871", "#48213"). */
  references: string[];
}
