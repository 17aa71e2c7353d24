import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lang } from '../../src/nlu/catalog.js';
import { toPlainText, type Reply } from '../../src/engine/replies.js';
import { loadTranslator } from '../../src/i18n/index.js';
import { startTestBot, type TestBot } from '../helpers/bot.js';

const i18n = loadTranslator();
const REFERENCE = /C-[2-9A-HJKMNP-Z]{6}/;
const plain = (replies: Reply[]): string => replies.map(toPlainText).join('\n');
/** The part of a locale string before its first placeholder: what identifies it whatever the values. */
const opening = (key: string, lang: Lang): string => i18n.t(key, lang).split('{{')[0] ?? '';

let bot: TestBot;
beforeAll(async () => {
  bot = await startTestBot();
});
afterAll(async () => {
  await bot?.stop();
});

/** One complaint and its status question, typed the way citizens write, per language. */
const CASES: { lang: Lang; complaint: string; place: string; status: (ref: string) => string }[] = [
  {
    lang: 'fr',
    complaint: 'le lampadaire devant chez moi est cassé depuis une semaine',
    place: '12 rue des Lilas',
    status: (ref) => `où en est ma plainte ${ref} ?`,
  },
  {
    lang: 'es',
    complaint: 'hay un bache enorme en mi calle desde hace un mes y nadie lo arregla',
    place: 'calle Mayor 5',
    status: (ref) => `como va mi queja ${ref}?`,
  },
  {
    lang: 'ar',
    complaint: 'في حفرة كبيرة في الشارع قدام بيتي من شهر وما حدا صلحها',
    place: 'شارع الجامعة',
    status: (ref) => `شو صار بشكوتي ${ref}`,
  },
  {
    lang: 'ru',
    complaint: 'у нас во дворе уже неделю не вывозят мусор, все переполнено',
    place: 'ул. Ленина 10',
    status: (ref) => `что с моей жалобой ${ref}?`,
  },
  {
    lang: 'zh',
    complaint: '我家门口的路灯坏了一个星期了一直没人修',
    place: '人民路10号',
    status: (ref) => `我的投诉${ref}处理得怎么样了`,
  },
];

describe.each(CASES)('a complaint and its status in $lang', ({ lang, complaint, place, status }) => {
  it('is taken, confirmed and answered in the citizen’s language', async () => {
    const user = `citizen-${lang}`;
    const categories = await bot.send(complaint, user);
    expect(categories.at(-1)).toMatchObject({
      kind: 'choices',
      text: i18n.t('complaint.ask_category', lang),
    });
    await bot.send('1', user); // the first category
    const photo = await bot.send(place, user);
    expect(photo.at(-1)).toMatchObject({ kind: 'choices', text: i18n.t('complaint.ask_photo', lang) });
    await bot.send('1', user); // skip the photo
    await bot.send('1', user); // anonymity: the first choice
    const summary = await bot.send('1', user); // consent: yes
    expect(plain(summary)).toContain(place);
    const created = await bot.send('1', user); // send
    expect(plain(created).startsWith(opening('complaint.created', lang))).toBe(true);
    const reference = REFERENCE.exec(plain(created))?.[0] ?? '';
    expect(reference).not.toBe('');

    const answer = await bot.send(status(reference), user);
    expect(plain(answer)).toContain(reference);
    expect(plain(answer)).toContain(i18n.t('case_status.open', lang));
  });
});

describe('suggestions and handoffs', () => {
  it('records a suggestion in the participation queue and acknowledges it with a reference', async () => {
    const replies = await bot.send(
      'I have an idea: the city should plant more trees along the river and add benches',
      'ideas',
    );
    const reference = REFERENCE.exec(plain(replies))?.[0] ?? '';
    expect(plain(replies)).toContain(i18n.t('suggestion.recorded', 'en', { reference }));
    const stored = await bot.db.Case.findOne({ reference }).lean();
    expect(stored).toMatchObject({ kind: 'suggestion', department: 'participation' });
  });

  it('asks for the idea when the message only says there is one', async () => {
    const ask = await bot.send('i have a suggestion', 'ideas-2');
    expect(toPlainText(ask.at(-1) as Reply)).toBe(i18n.t('suggestion.ask', 'en'));
  });
});

describe('handoff outside office hours', () => {
  it('tells the citizen an official will answer on the next working day', async () => {
    const closed = await startTestBot({
      officeHours: 'Mon-Fri 08:00-17:00',
      clock: () => new Date('2026-11-29T12:00:00Z'),
    });
    try {
      const replies = await closed.send('i want to talk to a real person', 'weekend');
      const reference = REFERENCE.exec(plain(replies))?.[0] ?? '';
      expect(plain(replies)).toContain(i18n.t('handoff.created_closed', 'en', { reference }));
    } finally {
      await closed.stop();
    }
  });
});
