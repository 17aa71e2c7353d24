import { beforeAll, describe, expect, it } from 'vitest';
import { type BundleJSON, ModelBundle, parseBundle, trainBundle } from '../../src/nlu/bundle.js';
import { LangModel, trainLangModel } from '../../src/nlu/model.js';
import { NlpjsIntentModel } from '../../src/nlu/nlpjs.js';
import { QUICK, fixtureCorpora } from './helpers.js';

let model: ModelBundle;
let saved: BundleJSON;

beforeAll(async () => {
  saved = await trainBundle(await fixtureCorpora(), 'test', QUICK);
  model = new ModelBundle(saved);
});

describe('intent model on small corpora', () => {
  it('recognises in-scope requests, with typos and missing accents', () => {
    expect(model.classify('how can i renew my passport').intent).toBe('service.passport');
    expect(model.classify('renw pasport pls', 'en').intent).toBe('service.passport');
    expect(model.classify('le lampadaire est casse dans ma rue', 'fr').intent).toBe('complaint.file');
    expect(model.classify('护照过期了怎么办', 'zh').intent).toBe('service.passport');
  });

  it('answers None for out-of-scope messages, in every language', () => {
    expect(model.classify('tell me a funny joke', 'en').intent).toBe('None');
    expect(model.classify('quel temps fera t il ce soir', 'fr').intent).toBe('None');
    expect(model.classify('расскажи анекдот пожалуйста', 'ru').intent).toBe('None');
    expect(model.classify('', 'en').intent).toBe('None');
    expect(model.classify('   ').intent).toBe('None');
  });

  it('gives a confidence in [0, 1], higher for a clear request than for a vague one', () => {
    const clear = model.classify('how do i renew my passport', 'en');
    const vague = model.classify('my thing', 'en');
    for (const c of [clear, vague]) {
      expect(c.score).toBeGreaterThanOrEqual(0);
      expect(c.score).toBeLessThanOrEqual(1);
    }
    expect(clear.score).toBeGreaterThan(vague.score);
  });

  it('extracts case references and still recognises the intent around them', () => {
    const c = model.classify('any update on case c7k4p9q?', 'en');
    expect(c.references).toEqual(['C-7K4P9Q']);
    expect(c.intent).toBe('case.status');
  });

  it('uses the language the citizen chose, else the detected one', () => {
    expect(model.classify('bonjour', 'fr').lang).toBe('fr');
    expect(model.classify('здравствуйте, нужен загранпаспорт').lang).toBe('ru');
    expect(model.classify('جواز سفري منتهي').lang).toBe('ar');
  });

  it('chooses thresholds per language from cross-validation, not from the tests', () => {
    for (const m of model.summary.models) {
      expect(m.threshold).toBeGreaterThanOrEqual(0);
      expect(m.threshold).toBeLessThan(1);
      // Cross-validation scored every training utterance exactly once.
      const corpusSize = model.summary.corpora.find((c) => c.lang === m.lang)?.train;
      expect(m.cv.examples).toBe(corpusSize);
    }
  });

  it('survives a save/load round trip with identical answers', () => {
    const restored = new ModelBundle(parseBundle(JSON.stringify(saved)));
    for (const text of ['hello there', 'passport expired', 'who won the match', '你好']) {
      expect(restored.classify(text)).toEqual(model.classify(text));
    }
  });
});

describe('NLP.js foundation', () => {
  it('predicts synchronously exactly what NLP.js process() returns', async () => {
    const [en] = await fixtureCorpora(['en']);
    const nlp = await NlpjsIntentModel.train('en', en?.train ?? []);
    for (const text of ['hello there', 'my pasport is expired', 'tell me something funny', 'zzz']) {
      const sync = nlp.predict(text);
      const async = await nlp.predictViaNlpjs(text);
      expect([...sync.keys()].sort()).toEqual([...async.keys()].sort());
      for (const [k, v] of async) expect(sync.get(k)).toBeCloseTo(v, 10);
    }
  });
});

describe('a corpus without out-of-scope examples (a public benchmark as published)', () => {
  it('still rejects unknown requests, without giving up more than 3 points of in-scope accuracy', async () => {
    const [en] = await fixtureCorpora(['en']);
    if (!en) throw new Error('no en fixture');
    const train = en.train.filter((e) => e.intent !== 'None');
    const json = trainLangModel('en', train, QUICK);
    expect(json.labels).not.toContain('None');
    // Cross-validation saw stand-in unknowns (intents left out of a fold) and set a cut-off.
    expect(json.threshold).toBeGreaterThan(0);
    expect(json.cv.oosRecall).toBeGreaterThan(0);
    const m = LangModel.fromJSON(json);
    const inScope = en.test.filter((e) => e.intent !== 'None');
    const right = inScope.filter((e) => m.classify(e.text).intent === e.intent).length;
    expect(right / inScope.length).toBeGreaterThanOrEqual(0.75);
  });
});

describe('nearest-neighbour ensemble', () => {
  it('keeps its answers through a save/load round trip', async () => {
    const [en] = await fixtureCorpora(['en']);
    if (!en) throw new Error('no en fixture');
    const json = trainLangModel('en', en.train, { ...QUICK, knnWeights: [0.5] });
    expect(json.knnWeight).toBe(0.5);
    const a = LangModel.fromJSON(json);
    const b = LangModel.fromJSON(parseBundle(JSON.stringify({ ...saved, models: [json] })).models[0] ?? json);
    for (const e of en.test) expect(b.classify(e.text)).toEqual(a.classify(e.text));
    // An utterance seen in training is its own nearest neighbour: its intent wins.
    const seen = en.train.find((e) => e.intent !== 'None');
    if (seen) expect(a.classify(seen.text).intent).toBe(seen.intent);
  });
});
