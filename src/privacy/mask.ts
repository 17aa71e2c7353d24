/**
 * Masking of personal data in free text, for logs and exports: what a citizen types ("call me on
 * +33 6 12 34 56 78", "my ID is 880412-1234") must not end up in a log line or a CSV an official
 * downloads. Masking is by shape, not by meaning, so it errs towards masking: a long number that is
 * not a phone number is masked too. Case references (`C-7K4P9Q`), dates and times are kept, because
 * they are what an operator needs to follow a case through the logs.
 */

/** What replaces each kind of personal data. */
export const MASKS = { email: '[email]', phone: '[phone]', id: '[id]' } as const;

const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}/gu;
// A phone number: an optional + or 00, then digits with the separators people type between them.
// Han and Arabic text writes numbers right after words without a space, so only alphabets that
// separate words with spaces count as "inside a word".
const PHONE =
  /(?<![\p{Script=Latin}\p{Script=Cyrillic}\p{Script=Greek}\p{N}])(?:\+|00)?\(?\d[\d\s().\u00a0/-]{5,}\d(?![\p{Script=Latin}\p{Script=Cyrillic}\p{Script=Greek}\p{N}])/gu;
// An ID, passport, tax or account number: a word with at least five digits (letters allowed).
const ID =
  /(?<![\p{Script=Latin}\p{Script=Cyrillic}\p{Script=Greek}\p{N}-])[\p{Script=Latin}\p{Script=Cyrillic}\p{Script=Greek}\p{N}-]*\d[\p{Script=Latin}\p{Script=Cyrillic}\p{Script=Greek}\p{N}-]*(?![\p{Script=Latin}\p{Script=Cyrillic}\p{Script=Greek}\p{N}-])/gu;
const CASE_REFERENCE = /^C-[2-9A-HJKMNP-Z]{6}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const MIN_PHONE_DIGITS = 7;
const MIN_ID_DIGITS = 5;

const digits = (s: string): number => (s.match(/\d/g) ?? []).length;

/**
 * Replaces e-mail addresses, phone numbers and identity/account numbers in `text` by
 * {@link MASKS}; everything else is kept as it was.
 *
 * @example
 * maskPersonalData('Ana, +34 612 345 678, ana@mail.es, DNI 12345678Z, case C-7K4P9Q');
 * // → 'Ana, [phone], [email], DNI [id], case C-7K4P9Q'
 */
export function maskPersonalData(text: string): string {
  return text
    .replace(EMAIL, MASKS.email)
    .replace(PHONE, (found) => {
      const trimmed = found.trim();
      return ISO_DATE.test(trimmed) || digits(found) < MIN_PHONE_DIGITS ? found : MASKS.phone;
    })
    .replace(ID, (found) => {
      if (CASE_REFERENCE.test(found) || ISO_DATE.test(found) || digits(found) < MIN_ID_DIGITS) return found;
      return MASKS.id;
    });
}

/**
 * {@link maskPersonalData} applied to every string inside `value`; plain objects and arrays are copied,
 * anything else (numbers, dates, class instances such as errors) is returned as it is.
 *
 * @example
 * maskDeep({ msg: 'reply to ana@mail.es', case: 'C-7K4P9Q' }); // → { msg: 'reply to [email]', case: 'C-7K4P9Q' }
 */
export function maskDeep(value: unknown): unknown {
  if (typeof value === 'string') return maskPersonalData(value);
  if (Array.isArray(value)) return value.map((v: unknown) => maskDeep(v));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = maskDeep(v);
  return out;
}

/**
 * A pino `formatters.log` that masks personal data in every string of a log line, after redaction
 * has removed the known personal paths: what slips into a message or an error text is masked too.
 *
 * @example
 * pino({ formatters: { log: maskLogObject }, redact: { paths: REDACT_PATHS } });
 */
export function maskLogObject(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(object)) out[key] = maskDeep(v);
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
