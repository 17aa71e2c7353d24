import { beforeAll, describe, expect, it } from 'vitest';
import { LanguageDetector } from '../../src/nlu/langid.js';
import { fixtureCorpora } from './helpers.js';

let detector: LanguageDetector;

beforeAll(async () => {
  detector = LanguageDetector.train((await fixtureCorpora()).flatMap((c) => c.train));
});

describe('language detection on short informal messages', () => {
  it('tells English, French and Spanish apart in a few words, accents or not', () => {
    expect(detector.detect('hello how are you')).toBe('en');
    expect(detector.detect('my passport expired')).toBe('en');
    expect(detector.detect('bonjour je veux un passeport')).toBe('fr');
    expect(detector.detect('mon passeport a expire')).toBe('fr');
    expect(detector.detect('hola quiero renovar mi pasaporte')).toBe('es');
    expect(detector.detect('la farola esta rota')).toBe('es');
  });

  it('settles Arabic, Russian and Chinese by script, even in two words', () => {
    expect(detector.detect('مرحبا')).toBe('ar');
    expect(detector.detect('привет бот')).toBe('ru');
    expect(detector.detect('你好')).toBe('zh');
  });

  it('takes a few non-Latin letters in a Latin message as code-switching by that speaker', () => {
    expect(detector.detect('passport renewal كيف')).toBe('ar');
    expect(detector.detect('am i eligible на пособие')).toBe('ru');
    expect(detector.detect('passport 过期了')).toBe('zh');
  });

  it('only ever answers one of its languages, even for symbols or another script', () => {
    const langs = detector.langs;
    for (const text of ['#48213', '???', '', 'γεια σου', 'こんにちは']) {
      expect(langs).toContain(detector.detect(text));
    }
  });

  it('restricted to one language, always answers it', () => {
    const en = LanguageDetector.train([{ text: 'hello', lang: 'en' }]);
    expect(en.detect('привет')).toBe('en');
  });
});
