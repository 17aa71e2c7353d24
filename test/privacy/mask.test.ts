import { describe, expect, it } from 'vitest';
import { maskDeep, maskLogObject, maskPersonalData } from '../../src/privacy/mask.js';

describe('maskPersonalData', () => {
  it.each([
    ['call me on +33 6 12 34 56 78 please', 'call me on [phone] please'],
    ['tel. 0044 (20) 7946-0958', 'tel. [phone]'],
    ['my number is 612345678', 'my number is [phone]'],
    ['whatsapp: +971501234567.', 'whatsapp: [phone].'],
    ['Номер 8 (912) 345-67-89', 'Номер [phone]'],
    ['电话13812345678', '电话[phone]'],
    ['رقمي ٠٥٠١٢٣٤٥٦٧'.replace(/[٠-٩]/g, (d) => String('٠١٢٣٤٥٦٧٨٩'.indexOf(d))), 'رقمي [phone]'],
  ])('masks the phone number in %j', (input, expected) => {
    expect(maskPersonalData(input)).toBe(expected);
  });

  it.each([
    ['write to jane.doe+city@example.org now', 'write to [email] now'],
    ['Почта: иван@почта.рф', 'Почта: [email]'],
  ])('masks the e-mail in %j', (input, expected) => {
    expect(maskPersonalData(input)).toBe(expected);
  });

  it.each([
    ['DNI 12345678Z', 'DNI [id]'],
    ['passport AB1234567 lost', 'passport [id] lost'],
    ['IBAN FR7630006000011234567890189', 'IBAN [id]'],
  ])('masks the identity or account number in %j', (input, expected) => {
    expect(maskPersonalData(input)).toBe(expected);
  });

  it('masks a dashed national number one way or the other', () => {
    expect(maskPersonalData('SSN 123-45-6789')).toMatch(/^SSN \[(id|phone)\]$/);
  });

  it('keeps what an operator needs: case references, dates, times, short numbers', () => {
    const text = 'case C-7K4P9Q and C-234567 on 2024-05-01 at 17:30, 3 photos, street no. 77, 2024';
    expect(maskPersonalData(text)).toBe(text);
  });

  it('masks everything in one sentence', () => {
    expect(maskPersonalData('Ana, +34 612 345 678, ana@mail.es, DNI 12345678Z, case C-7K4P9Q')).toBe(
      'Ana, [phone], [email], DNI [id], case C-7K4P9Q',
    );
  });
});

describe('maskDeep and maskLogObject', () => {
  it('masks strings nested in objects and arrays and leaves other values alone', () => {
    const at = new Date(0);
    expect(maskDeep({ msg: 'to ana@mail.es', list: ['+1 202 555 0143', 7], at, n: 612345678 })).toEqual({
      msg: 'to [email]',
      list: ['[phone]', 7],
      at,
      n: 612345678,
    });
  });

  it('masks a log line as pino hands it to formatters.log', () => {
    expect(
      maskLogObject({ err: { message: 'send to +44 7700 900123 failed' }, caseReference: 'C-7K4P9Q' }),
    ).toEqual({ err: { message: 'send to [phone] failed' }, caseReference: 'C-7K4P9Q' });
  });
});
