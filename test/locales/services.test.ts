import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CASE_STATUSES } from '../../src/db/models/case.js';
import { DEFAULT_CATEGORIES, DEFAULT_DEPARTMENTS } from '../../src/db/models/department.js';
import { loadTranslator } from '../../src/i18n/index.js';
import { INTENTS, LANGS, type IntentId, type Lang } from '../../src/nlu/catalog.js';

// The locale files are content written by hand: parse them at the edge into a typed tree.
type Leaf = string | string[];
interface Tree {
  [key: string]: Leaf | Tree;
}
const treeSchema: z.ZodType<Tree> = z.lazy(() =>
  z.record(z.string(), z.union([z.string(), z.array(z.string()), treeSchema])),
);

function readLocale(lang: Lang): Tree {
  const raw = readFileSync(new URL(`../../locales/${lang}.json`, import.meta.url), 'utf8');
  return treeSchema.parse(JSON.parse(raw));
}

const LOCALES: Record<Lang, Tree> = Object.fromEntries(
  LANGS.map((lang) => [lang, readLocale(lang)]),
) as Record<Lang, Tree>;
const OTHERS = LANGS.filter((lang) => lang !== 'en');

function flatten(tree: Tree, prefix = ''): Map<string, Leaf> {
  const out = new Map<string, Leaf>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (typeof value === 'string' || Array.isArray(value)) out.set(path, value);
    else for (const [k, v] of flatten(value, path)) out.set(k, v);
  }
  return out;
}

const FLAT: Record<Lang, Map<string, Leaf>> = Object.fromEntries(
  LANGS.map((lang) => [lang, flatten(LOCALES[lang])]),
) as Record<Lang, Map<string, Leaf>>;

// i18next v4 plurals: `key_one`, `key_few`… Languages need different forms, so keys are compared by base.
const PLURAL_SUFFIX = /_(zero|one|two|few|many|other)$/;
const baseKey = (key: string): string => key.replace(PLURAL_SUFFIX, '');

/** The plural forms i18next asks for when counting 0…1000 in `lang` (Russian never needs `_other` for whole numbers). */
function neededPluralForms(lang: Lang): Set<string> {
  const rules = new Intl.PluralRules(lang);
  const forms = new Set<string>();
  for (let n = 0; n <= 1000; n++) forms.add(rules.select(n));
  return forms;
}

function strings(leaf: Leaf): string[] {
  return typeof leaf === 'string' ? [leaf] : leaf;
}

/** `{{name}}`, `{{- name}}`, `{{value, number}}` and `$t(other.key)` references in a string. */
function placeholders(text: string): string[] {
  const vars = [...text.matchAll(/\{\{\s*-?\s*([^\s,}]+)[^}]*\}\}/g)].map((m) => `{{${m[1] ?? ''}}}`);
  const nested = [...text.matchAll(/\$t\(\s*([^\s,)]+)/g)].map((m) => `$t(${m[1] ?? ''})`);
  return [...vars, ...nested];
}

function placeholdersByBaseKey(lang: Lang): Map<string, string[]> {
  const byKey = new Map<string, Set<string>>();
  for (const [key, leaf] of FLAT[lang]) {
    const set = byKey.get(baseKey(key)) ?? new Set<string>();
    for (const s of strings(leaf)) for (const p of placeholders(s)) set.add(p);
    byKey.set(baseKey(key), set);
  }
  return new Map([...byKey].map(([k, set]) => [k, [...set].sort()]));
}

/** The text a typography rule looks at: URLs and placeholders are code, not prose. */
function prose(text: string): string {
  return text
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/\{\{[^}]*\}\}/g, ' ')
    .replace(/\$t\([^)]*\)/g, ' ');
}

// ---- The service answers: intents answered from content, and where their content lives. ----

const ANSWERED_INTENTS = INTENTS.filter(
  (intent) => intent.startsWith('service.') || intent === 'office.hours' || intent === 'appointment.book',
);

/** `service.passport` → `services.passport`; `office.hours` and `appointment.book` keep their ID. */
function answerKey(intent: IntentId): string {
  return intent.startsWith('service.') ? `services.${intent.slice('service.'.length)}` : intent;
}

const answerSchema = z.object({ title: z.string(), answer: z.string(), link: z.string() });
type Answer = z.infer<typeof answerSchema>;

function answerOf(lang: Lang, intent: IntentId): Answer {
  let node: Leaf | Tree | undefined = LOCALES[lang];
  for (const part of answerKey(intent).split('.')) {
    node = node !== undefined && typeof node === 'object' && !Array.isArray(node) ? node[part] : undefined;
  }
  return answerSchema.parse(node);
}

/** Facts a citizen acts on: fees, phone numbers and opening times, normalized across languages. */
function facts(text: string): { fees: string[]; phones: string[]; times: string[] } {
  const fees = [...text.matchAll(/DC\$\s?(\d+)|(\d+)\s?DC\$/g)].map((m) => m[1] ?? m[2] ?? '');
  const phones = [...text.matchAll(/\b0800-\d{3}-\d{3}\b/g)].map((m) => m[0]);
  const clock = [...text.matchAll(/\b(\d{1,2}):(\d{2})\b/g)].map((m) => `${Number(m[1])}:${m[2] ?? ''}`);
  // French writes "8 h 30" and "17 h".
  const french = [...text.matchAll(/\b(\d{1,2})\s?h(?:\s?(\d{2}))?(?!\p{L})/gu)].map(
    (m) => `${Number(m[1])}:${m[2] ?? '00'}`,
  );
  const uniq = (xs: string[]): string[] => [...new Set(xs)].sort();
  return { fees: uniq(fees), phones: uniq(phones), times: uniq([...clock, ...french]) };
}

const SCRIPT: Partial<Record<Lang, RegExp>> = {
  ar: /\p{Script=Arabic}/u,
  ru: /\p{Script=Cyrillic}/u,
  zh: /\p{Script=Han}/u,
};

describe('locales: completeness', () => {
  const enKeys = new Set([...FLAT.en.keys()].map(baseKey));

  it.each(OTHERS)('%s has exactly the keys of en (no missing, no extra)', (lang) => {
    const keys = new Set([...FLAT[lang].keys()].map(baseKey));
    expect({
      missing: [...enKeys].filter((k) => !keys.has(k)),
      extra: [...keys].filter((k) => !enKeys.has(k)),
    }).toEqual({
      missing: [],
      extra: [],
    });
  });

  it.each(LANGS)('%s has a non-empty string for every key', (lang) => {
    const empty = [...FLAT[lang]].filter(
      ([, leaf]) => strings(leaf).length === 0 || strings(leaf).some((s) => s.trim() === ''),
    );
    expect(empty.map(([key]) => key)).toEqual([]);
  });

  it.each(LANGS)('%s has every plural form its grammar needs', (lang) => {
    const needed = neededPluralForms(lang);
    // A plural set always has `_other` in English; without it, `common.pick_one` is a name, not a plural.
    const bases = new Set(
      [...FLAT[lang].keys()]
        .filter((k) => PLURAL_SUFFIX.test(k) && FLAT.en.has(`${baseKey(k)}_other`))
        .map(baseKey),
    );
    const missing = [...bases].flatMap((base) =>
      [...needed].filter((f) => !FLAT[lang].has(`${base}_${f}`)).map((f) => `${base}_${f}`),
    );
    expect(missing).toEqual([]);
  });

  it.each(OTHERS)('%s uses the same {{placeholders}} and $t() references as en, key by key', (lang) => {
    const en = placeholdersByBaseKey('en');
    const other = placeholdersByBaseKey(lang);
    const differing = [...en]
      .filter(([key, ps]) => other.has(key) && JSON.stringify(other.get(key)) !== JSON.stringify(ps))
      .map(([key, ps]) => ({ key, en: ps, [lang]: other.get(key) }));
    expect(differing).toEqual([]);
  });

  it.each(LANGS)('%s: every $t() reference points at a key of the same file', (lang) => {
    const dangling = [...FLAT[lang]].flatMap(([key, leaf]) =>
      strings(leaf)
        .flatMap((s) => [...s.matchAll(/\$t\(\s*([^\s,)]+)/g)].map((m) => m[1] ?? ''))
        .filter((ref) => ![...FLAT[lang].keys()].some((k) => k === ref || baseKey(k) === ref))
        .map((ref) => `${key} → ${ref}`),
    );
    expect(dangling).toEqual([]);
  });
});

describe('locales: service answers', () => {
  it('covers every service.*, office.hours and appointment.book intent of the catalog', () => {
    expect(ANSWERED_INTENTS).toContain('service.passport');
    expect(ANSWERED_INTENTS).toContain('office.hours');
    expect(ANSWERED_INTENTS).toContain('appointment.book');
    expect(ANSWERED_INTENTS.length).toBe(INTENTS.filter((i) => i.startsWith('service.')).length + 2);
  });

  describe.each(LANGS)('%s', (lang) => {
    it.each(ANSWERED_INTENTS)('%s has a title, an answer and an https link', (intent) => {
      const { title, answer, link } = answerOf(lang, intent);
      expect(title.trim()).not.toBe('');
      // Titles are menu buttons: one short line.
      expect(title).not.toContain('\n');
      expect([...title].length).toBeLessThanOrEqual(32);
      expect(answer.trim()).not.toBe('');
      expect([...answer].length).toBeLessThanOrEqual(700);
      const url = new URL(link);
      expect(url.protocol).toBe('https:');
      expect(url.hostname).toBe(new URL(answerOf('en', intent).link).hostname);
    });

    it.each(ANSWERED_INTENTS)('%s reads as plain text on a phone: 3–7 lines, no Markdown', (intent) => {
      const { answer } = answerOf(lang, intent);
      const lines = answer.split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(3);
      expect(lines.length).toBeLessThanOrEqual(7);
      expect(lines.filter((l) => l.trim() === '' || l !== l.trim())).toEqual([]);
      // WhatsApp and Telegram turn these into formatting; Markdown links show raw.
      expect(answer).not.toMatch(/[*_`#~]|\]\(/);
    });

    it.each(ANSWERED_INTENTS)('%s states the same fees, phone numbers and opening times as en', (intent) => {
      expect(facts(answerOf(lang, intent).answer)).toEqual(facts(answerOf('en', intent).answer));
    });
  });

  it.each(OTHERS)('%s answers are translated, not copied from en', (lang) => {
    const script = SCRIPT[lang];
    for (const intent of ANSWERED_INTENTS) {
      const ours = answerOf(lang, intent);
      expect(ours.answer, intent).not.toBe(answerOf('en', intent).answer);
      if (script !== undefined) {
        expect(ours.answer, intent).toMatch(script);
        expect(ours.title, intent).toMatch(script);
      }
    }
  });

  it('the bot’s translator returns each answer in each language itself, not the English fallback', () => {
    const i18n = loadTranslator();
    for (const lang of LANGS) {
      for (const intent of ANSWERED_INTENTS) {
        const key = answerKey(intent);
        expect(i18n.has(`${key}.answer`, lang), `${lang} ${key}`).toBe(true);
        expect(i18n.t(`${key}.answer`, lang)).toBe(answerOf(lang, intent).answer);
      }
    }
  });
});

describe('locales: labels the dialogs insert', () => {
  const groups = {
    departments: DEFAULT_DEPARTMENTS.map((d) => d.key),
    categories: [...DEFAULT_CATEGORIES],
    case_status: [...CASE_STATUSES],
  };

  describe.each(LANGS)('%s', (lang) => {
    it.each(Object.entries(groups))(
      'has a short one-line label for every key the data layer uses in %s',
      (group, keys) => {
        const node = LOCALES[lang][group];
        const labels = z.record(z.string(), z.string()).parse(node);
        // At least the data layer's keys; extra labels (e.g. a `suggestion` category) are welcome.
        expect(keys.filter((k) => !(k in labels))).toEqual([]);
        for (const label of Object.values(labels)) {
          expect(label.trim()).not.toBe('');
          expect(label).not.toContain('\n');
          expect([...label].length).toBeLessThanOrEqual(40);
        }
        const script = SCRIPT[lang];
        if (script !== undefined) for (const label of Object.values(labels)) expect(label).toMatch(script);
      },
    );
  });
});

describe('locales: typography of each language', () => {
  const texts = (lang: Lang): [string, string][] =>
    [...FLAT[lang]].flatMap(([key, leaf]) => strings(leaf).map((s): [string, string] => [key, prose(s)]));

  it('fr: a (narrow) no-break space before : ; ? ! (except in times and URLs)', () => {
    const bad = texts('fr').filter(([, s]) =>
      /[^\u00a0\u202f\d][:;?!]|\d[;?!]/.test(s.replace(/\d:\d/g, '0')),
    );
    expect(bad.map(([key]) => key)).toEqual([]);
  });

  it('es: every question and exclamation opens with ¿ and ¡', () => {
    const count = (s: string, c: string): number => s.split(c).length - 1;
    const bad = texts('es').filter(
      ([, s]) => count(s, '?') !== count(s, '¿') || count(s, '!') !== count(s, '¡'),
    );
    expect(bad.map(([key]) => key)).toEqual([]);
  });

  it('ar: Arabic punctuation (، ؛ ؟) and one digit system throughout', () => {
    const bad = texts('ar').filter(([, s]) => /[,;?]/.test(s));
    expect(bad.map(([key]) => key)).toEqual([]);
    const all = texts('ar')
      .map(([, s]) => s)
      .join('\n');
    expect(/[0-9]/.test(all) && /[\u0660-\u0669\u06f0-\u06f9]/.test(all)).toBe(false);
  });

  it('ar: every line starts with an Arabic letter, so chat apps lay it out right to left', () => {
    // Telegram and WhatsApp pick each line's direction from its first letter.
    // Never laid out in Arabic: words matched against what citizens type (English ones included),
    // and each language's own name on the language buttons.
    const notArabicByDesign = (key: string): boolean =>
      key === 'common.cancel_words' || key.startsWith('language.self_name_');
    const bad = texts('ar').filter(
      ([key, s]) =>
        !notArabicByDesign(key) &&
        s.split('\n').some((line) => {
          const first = /\p{L}/u.exec(line);
          return first !== null && !/\p{Script=Arabic}/u.test(first[0]);
        }),
    );
    expect(bad.map(([key]) => key)).toEqual([]);
  });

  it('ru: «ёлочки» quotes, never straight double quotes', () => {
    expect(
      texts('ru')
        .filter(([, s]) => s.includes('"'))
        .map(([key]) => key),
    ).toEqual([]);
  });

  it('zh: full-width punctuation (，；？！（）：), ASCII only inside numbers and times', () => {
    const bad = texts('zh').filter(([, s]) => /[,;?!()]/.test(s) || /:/.test(s.replace(/\d:\d/g, '0')));
    expect(bad.map(([key]) => key)).toEqual([]);
  });
});
