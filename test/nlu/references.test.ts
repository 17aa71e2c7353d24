import { describe, expect, it } from 'vitest';
import { extractReferences, maskReferences } from '../../src/nlu/references.js';

describe('extractReferences', () => {
  it('finds the three printed shapes and normalises them', () => {
    expect(extractReferences('any news on C-7K4P9Q?')).toEqual(['C-7K4P9Q']);
    expect(extractReferences('my letter says C-2024-00871')).toEqual(['C-2024-00871']);
    expect(extractReferences('ticket #48213 please')).toEqual(['#48213']);
  });

  it('tolerates lower case, a missing dash and spaces', () => {
    expect(extractReferences('status c7k4p9q')).toEqual(['C-7K4P9Q']);
    expect(extractReferences('c-7k4p9q')).toEqual(['C-7K4P9Q']);
    expect(extractReferences('c 2024 00871')).toEqual(['C-2024-00871']);
    expect(extractReferences('c2024-00871 and # 48213')).toEqual(['C-2024-00871', '#48213']);
  });

  it('keeps order, drops duplicates and works inside Chinese or Arabic text', () => {
    expect(extractReferences('#48213 then C-7K4P9Q then #48213')).toEqual(['#48213', 'C-7K4P9Q']);
    expect(extractReferences('我的投诉C-7K4P9Q怎么样了')).toEqual(['C-7K4P9Q']);
    expect(extractReferences('ما حالة الطلب #48213')).toEqual(['#48213']);
  });

  it('does not take ordinary words or numbers for references', () => {
    expect(extractReferences('cabbage and cheese')).toEqual([]);
    expect(extractReferences('I called 3 times about the c-section ward')).toEqual([]);
    // 0, 1, I, L and O are not in the short-code alphabet.
    expect(extractReferences('C-10LO1I')).toEqual([]);
    expect(extractReferences('room 48213')).toEqual([]);
  });

  it('masks references with one placeholder word', () => {
    expect(maskReferences('news on C-7K4P9Q?')).toBe('news on  refcode ?');
  });
});
