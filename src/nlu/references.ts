/**
 * Case references as citizens type them. Three shapes are in use:
 * - our own short code, "C-" and six characters of an alphabet without look-alikes
 *   (no 0/O, 1/I/L): "C-7K4P9Q";
 * - a year-serial number printed on older letters: "C-2024-00871";
 * - a bare ticket number: "#48213".
 * People drop the dash, add a space or type in lower case, so matching is tolerant and the
 * result is normalised to the printed form.
 */

/** Alphabet of the short code (Crockford-like: no 0, 1, I, L, O). */
export const REFERENCE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

// References are ASCII; Han or Arabic letters right next to one still delimit it.
const EDGE_BEFORE = '(?<![A-Za-z0-9])';
const EDGE_AFTER = '(?![A-Za-z0-9])';
const YEAR_SERIAL = new RegExp(
  `${EDGE_BEFORE}c\\s?-?\\s?((?:19|20)\\d\\d)\\s?[-/]?\\s?(\\d{3,6})${EDGE_AFTER}`,
  'giu',
);
const SHORT_CODE = new RegExp(
  `${EDGE_BEFORE}c(\\s?-\\s?|\\s?)([${REFERENCE_ALPHABET}]{6})${EDGE_AFTER}`,
  'giu',
);
const TICKET = new RegExp(`(?:#|№|n°)\\s?(\\d{3,10})${EDGE_AFTER}`, 'giu');

/**
 * Finds case references in a message and returns them normalised, in order of appearance,
 * without duplicates.
 *
 * @example extractReferences("any news on c7k4p9q and #48213?") // ["C-7K4P9Q", "#48213"]
 */
export function extractReferences(text: string): string[] {
  const found: { at: number; ref: string }[] = [];
  const taken: [number, number][] = [];
  const overlaps = (a: number, b: number): boolean => taken.some(([s, e]) => a < e && b > s);

  for (const m of text.matchAll(YEAR_SERIAL)) {
    const at = m.index;
    taken.push([at, at + m[0].length]);
    found.push({ at, ref: `C-${m[1] ?? ''}-${m[2] ?? ''}` });
  }
  for (const m of text.matchAll(SHORT_CODE)) {
    const at = m.index;
    const code = (m[2] ?? '').toUpperCase();
    const dashed = (m[1] ?? '').includes('-');
    // Without the dash, "c" + six letters is too often an ordinary word ("cabbage"):
    // the short code always has a digit when it is typed that way in practice.
    if (!dashed && !/\d/u.test(code)) continue;
    if (overlaps(at, at + m[0].length)) continue;
    taken.push([at, at + m[0].length]);
    found.push({ at, ref: `C-${code}` });
  }
  for (const m of text.matchAll(TICKET)) {
    const at = m.index;
    if (overlaps(at, at + m[0].length)) continue;
    found.push({ at, ref: `#${m[1] ?? ''}` });
  }
  found.sort((a, b) => a.at - b.at);
  return [...new Set(found.map((f) => f.ref))];
}

/**
 * Replaces every case reference with one placeholder word, so the classifiers learn "a
 * reference is here" instead of memorising particular codes.
 */
export function maskReferences(text: string, placeholder = ' refcode '): string {
  return text
    .replace(YEAR_SERIAL, placeholder)
    .replace(SHORT_CODE, (m, dash: string, code: string) =>
      dash.includes('-') || /\d/u.test(code) ? placeholder : m,
    )
    .replace(TICKET, placeholder);
}
