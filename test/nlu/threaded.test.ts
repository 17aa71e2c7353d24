import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNluThread, type NluThread } from '../../src/nlu/threaded.js';
import { understand } from '../../src/nlu/understand.js';
import { sharedIntentModel } from '../helpers/nlu.js';

let thread: NluThread;
let exits = 0;

beforeAll(async () => {
  await sharedIntentModel(); // trained and cached once: the thread then loads it from the cache
  thread = await startNluThread({}, () => (exits += 1));
}, 600_000);
afterAll(async () => thread.close());

describe('the intent model in its own thread', () => {
  it('reads messages as the model does in this thread: language, intent, references', async () => {
    const model = await sharedIntentModel();
    const messages: [string, { chosen?: 'en' | 'fr' | 'es' | 'ar' | 'ru' | 'zh'; prior: 'en' | 'fr' }][] = [
      ['how do I renew my passport', { prior: 'en' }],
      ["bonjour, j'ai un problème avec ma facture d'eau", { prior: 'en' }],
      ['ok', { prior: 'fr' }],
      ['any news on C-7K4P9Q?', { prior: 'en' }],
      ['hello', { chosen: 'es', prior: 'en' }],
      ['', { prior: 'fr' }],
    ];
    const answers = await Promise.all(messages.map(([text, choice]) => thread.understand(text, choice)));
    expect(answers).toEqual(messages.map(([text, choice]) => understand(model, text, choice)));
    expect(answers[1]?.lang).toBe('fr');
    expect(answers[2]?.lang).toBe('fr'); // "ok" does not switch the conversation's language
    expect(answers[3]?.nlu.references).toEqual(['C-7K4P9Q']);
    expect(answers[4]?.lang).toBe('es'); // the citizen's choice wins
    expect(answers[5]?.nlu.intent).toBe('None');
  });

  it('fails pending and later requests once the thread is gone, and tells the app', async () => {
    const other = await startNluThread({}, () => (exits += 1));
    const pending = other.understand('hello', { prior: 'en' });
    await other.close();
    await expect(pending).rejects.toThrow(/thread stopped/);
    await expect(other.understand('hello', { prior: 'en' })).rejects.toThrow(/thread stopped/);
    expect(exits).toBe(0); // closing on purpose is not a crash
  });

  it('refuses to start on a model file that is not there, saying so', async () => {
    await expect(startNluThread({ modelPath: '/nonexistent/model.json' })).rejects.toThrow(/intent model/);
  });
});
