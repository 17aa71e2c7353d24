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

describe('language detection inside a conversation', () => {
  it('is not swayed by case references or numbers', () => {
    expect(detector.detect('any news on C-2KH3NZ?')).toBe('en');
    expect(detector.detect('any news on C-2024-00871 please')).toBe('en');
    expect(detector.detect('status of #48213 please')).toBe('en');
  });

  it('keeps the conversation language for a lone word several languages share', () => {
    for (const word of ['hello', 'ok', 'menu', 'taxi']) {
      expect(detector.detect(word, 'en'), word).toBe('en');
      expect(detector.detect(word, 'fr'), word).toBe('fr');
    }
  });

  it('switches when the message clearly reads as another language', () => {
    expect(detector.detect('bonjour', 'en')).toBe('fr');
    expect(detector.detect('hola necesito ayuda con mi pasaporte', 'en')).toBe('es');
    expect(detector.detect('my passport expired', 'fr')).toBe('en');
    expect(detector.detect('привет', 'en')).toBe('ru');
  });

  it('keeps the prior for text with no letters', () => {
    expect(detector.detect('#48213', 'es')).toBe('es');
    expect(detector.detect('42', 'fr')).toBe('fr');
  });
});
