import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  generateReference,
  isReference,
  normalizeReference,
  REFERENCE_ALPHABET,
} from '../../src/cases/reference.js';

describe('case references', () => {
  it('look like C-7K4P9Q and never contain characters people misread', () => {
    for (let i = 0; i < 5000; i++) {
      const ref = generateReference();
      expect(ref).toMatch(/^C-[A-Z2-9]{6}$/);
      expect(ref.slice(2)).not.toMatch(/[01OIL]/);
      expect(isReference(ref)).toBe(true);
    }
  });

  it('use every character of the alphabet (no bias that would shrink the space)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) for (const ch of generateReference().slice(2)) seen.add(ch);
    expect([...seen].sort().join('')).toBe([...REFERENCE_ALPHABET].sort().join(''));
  });

  it('collide no more often than uniform chance over 100,000 draws', () => {
    const draws = 100_000;
    const refs = new Set(Array.from({ length: draws }, generateReference));
    // Birthday bound: n²/2N = 1e10 / (2 × 31^6) ≈ 5.6 expected collisions (Poisson). More than 25 has
    // probability < 1e-9 for a uniform draw, while any bias or a shorter suffix would exceed it at once.
    expect(draws - refs.size).toBeLessThanOrEqual(25);
  });

  it('normalize what citizens type back to the canonical form', () => {
    expect(normalizeReference(' c-7k4p9q ')).toBe('C-7K4P9Q');
    expect(normalizeReference('C7K4P9Q')).toBe('C-7K4P9Q');
    expect(normalizeReference('#C-7K4P9Q.')).toBe('C-7K4P9Q');
    expect(normalizeReference('C-7K4P9')).toBeUndefined();
    expect(normalizeReference('C-2024-00871')).toBeUndefined();
    expect(normalizeReference('C-7K4P0Q')).toBeUndefined();
  });

  it('round-trip: any generated reference, however cased or spaced, normalizes to itself', () => {
    fc.assert(
      fc.property(
        fc.constant(null).map(generateReference),
        fc.boolean(),
        fc.boolean(),
        (ref, lower, strip) => {
          let typed = lower ? ref.toLowerCase() : ref;
          if (strip) typed = typed.replace('-', '');
          expect(normalizeReference(`  ${typed} `)).toBe(ref);
        },
      ),
    );
  });
});
