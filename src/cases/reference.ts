import { randomInt } from 'node:crypto';

/**
 * The characters of a case reference: digits and capitals without the ones people misread or mistype
 * (0/O, 1/I/L), so a reference read aloud on the phone or copied from a screenshot comes back right.
 */
export const REFERENCE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
/** Random characters after "C-": 31^6 ≈ 887 million references, so collisions are rare and retried. */
export const REFERENCE_LENGTH = 6;

const REFERENCE_PATTERN = /^C-[2-9A-HJKMNP-Z]{6}$/;

/**
 * Draws a new random case reference such as "C-7K4P9Q" (cryptographically random, so references
 * cannot be guessed from one another).
 */
export function generateReference(): string {
  let out = 'C-';
  for (let i = 0; i < REFERENCE_LENGTH; i++) out += REFERENCE_ALPHABET[randomInt(REFERENCE_ALPHABET.length)];
  return out;
}

/**
 * The canonical form of what a citizen typed as a reference ("c 7k4p9q", "C-7K4P9Q.", "c7k4p9q"),
 * or `undefined` when it cannot be one of ours.
 *
 * @example
 * ```ts
 * normalizeReference(' c-7k4p9q ') // 'C-7K4P9Q'
 * normalizeReference('C-2024-00871') // undefined: not this system's format
 * ```
 */
export function normalizeReference(input: string): string | undefined {
  const compact = input
    .trim()
    .toUpperCase()
    .replace(/[\s.,;:!?#]+/g, '');
  const withDash = /^C[2-9A-Z]{6}$/.test(compact) ? `C-${compact.slice(1)}` : compact;
  return isReference(withDash) ? withDash : undefined;
}

/** True when `value` is exactly a canonical case reference. */
export function isReference(value: string): boolean {
  return REFERENCE_PATTERN.test(value);
}
