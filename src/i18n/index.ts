import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import i18next, { type i18n } from 'i18next';
import { LANGS, type Lang } from '../nlu/catalog.js';

/** Where the content pack's strings live: one JSON file per language. */
export const LOCALES_DIR = join(import.meta.dirname, '..', '..', 'locales');

export type Vars = Record<string, string | number>;

/** Translator over locales/: every sentence a citizen or official reads comes through here. */
export interface Translator {
  /** The string for `key` in `lang`, falling back to English; `{{name}}` placeholders filled from `vars`. */
  t(key: string, lang: Lang, vars?: Vars): string;
  /** A list of strings (e.g. keywords) for `key` in `lang`, falling back to English; [] when absent. */
  list(key: string, lang: Lang): string[];
  /** Whether `key` exists in `lang` itself (no fallback). */
  has(key: string, lang: Lang): boolean;
}

/**
 * Loads locales/ synchronously at start-up (the files are small) into a private i18next instance.
 *
 * @example
 * const i18n = loadTranslator();
 * i18n.t('complaint.created', 'fr', { reference: 'C-7K4P9Q' });
 */
export function loadTranslator(dir: string = LOCALES_DIR): Translator {
  const resources: Record<string, { translation: Record<string, unknown> }> = {};
  for (const lang of LANGS) {
    const parsed: unknown = JSON.parse(readFileSync(join(dir, `${lang}.json`), 'utf8'));
    if (typeof parsed !== 'object' || parsed === null)
      throw new Error(`locales/${lang}.json is not an object`);
    resources[lang] = { translation: parsed as Record<string, unknown> };
  }
  const instance: i18n = i18next.createInstance();
  void instance.init({
    initAsync: false,
    resources,
    fallbackLng: 'en',
    supportedLngs: [...LANGS],
    interpolation: { escapeValue: false },
    returnNull: false,
    showSupportNotice: false,
  });
  return {
    t: (key, lang, vars) => instance.t(key, { lng: lang, ...vars }),
    list(key, lang) {
      const value: unknown = instance.t(key, { lng: lang, returnObjects: true });
      return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
    },
    has: (key, lang) => instance.exists(key, { lng: lang, fallbackLng: false }),
  };
}
