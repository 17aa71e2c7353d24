import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve as resolveCase, claimNext } from '../../src/cases/index.js';
import { CaseNotifier } from '../../src/engine/notifications.js';
import { toPlainText, type Reply } from '../../src/engine/replies.js';
import { loadTranslator } from '../../src/i18n/index.js';
import { startTestBot, type TestBot } from '../helpers/bot.js';

const i18n = loadTranslator();
const REFERENCE = /C-[2-9A-HJKMNP-Z]{6}/;

const text = (replies: Reply[]): string => replies.map(toPlainText).join('\n---\n');
const last = (replies: Reply[]): Reply => {
  const reply = replies.at(-1);
  if (!reply) throw new Error('no reply');
  return reply;
};

let bot: TestBot;
beforeAll(async () => {
  bot = await startTestBot();
});
afterAll(async () => {
  await bot?.stop();
});

/** Files a complaint through the whole form and returns its reference. */
async function fileComplaint(
  user: string,
  first: string,
  answers: { category: string; place: string },
): Promise<string> {
  const categories = await bot.send(first, user);
  expect(last(categories).kind).toBe('choices');
  const afterCategory = await bot.send(answers.category, user);
  // A long first message is the description: the form goes straight to the location.
  expect(last(afterCategory).kind).toBe('location_request');
  await bot.send(answers.place, user); // → photo (or skip)
  await bot.send('1', user); // skip the photo → anonymous?
  await bot.send('1', user); // first choice (not anonymous) → consent?
  const summary = await bot.send('1', user); // consent yes → summary
  expect(toPlainText(last(summary))).toContain(answers.place);
  const created = await bot.send('1', user); // send
  const match = REFERENCE.exec(text(created));
  if (!match) throw new Error(`no reference in: ${text(created)}`);
  return match[0];
}

describe('first contact and routing', () => {
  it('greets with the privacy notice once, then the menu as choices', async () => {
    const first = await bot.send('hello', 'greeter');
    expect(first[0]).toMatchObject({ kind: 'link', url: i18n.t('privacy.policy_url', 'en') });
    expect(last(first)).toMatchObject({ kind: 'choices', text: i18n.t('greet.menu', 'en') });
    const again = await bot.send('good morning', 'greeter');
    expect(again.some((r) => r.kind === 'link' && r.url === i18n.t('privacy.policy_url', 'en'))).toBe(false);
  });

  it('answers a service question from the content pack, with its link', async () => {
    const replies = await bot.send('how do i renew my passport', 'svc');
    expect(last(replies)).toMatchObject({
      kind: 'link',
      text: i18n.t('services.passport.answer', 'en'),
      url: i18n.t('services.passport.link', 'en'),
    });
  });

  it('answers in the language the citizen writes in (Spanish)', async () => {
    const replies = await bot.send('necesito sacar el pasaporte, que documentos llevo?', 'svc-es');
    expect(last(replies)).toMatchObject({ kind: 'link', text: i18n.t('services.passport.answer', 'es') });
  });

  it('lets the citizen pick from the menu with a digit', async () => {
    await bot.send('what can you do?', 'menu-user');
    const replies = await bot.send('3', 'menu-user'); // City services
    expect(last(replies)).toMatchObject({ kind: 'choices', text: i18n.t('menu.services_pick', 'en') });
  });
});

describe('complaints and their status', () => {
  it('files a complaint end to end and routes it to the department of its category', async () => {
    const reference = await fileComplaint('alice', 'the streetlight on my road has been broken for a week', {
      category: '2', // lighting
      place: 'Rue Haute 4',
    });
    const stored = await bot.db.Case.findOne({ reference }).lean();
    expect(stored).toMatchObject({
      kind: 'complaint',
      category: 'lighting',
      department: 'public_works',
      status: 'open',
    });
    expect(stored?.fields.description).toBe('the streetlight on my road has been broken for a week');
    expect(stored?.fields.location?.text).toBe('Rue Haute 4');
  });

  it('answers the status of a reference only to the citizen who filed it', async () => {
    const reference = await fileComplaint(
      'bob',
      'there is a huge pothole in front of the school on main street',
      {
        category: 'Roads',
        place: 'Main street 12',
      },
    );
    const own = await bot.send(`any news on ${reference}?`, 'bob');
    expect(text(own)).toContain(reference);
    expect(text(own)).toContain(i18n.t('case_status.open', 'en'));

    const stranger = await bot.send(`any news on ${reference}?`, 'mallory');
    const unknown = await bot.send('any news on C-2222ZZ?', 'mallory');
    expect(toPlainText(last(stranger))).toBe(i18n.t('status.not_found', 'en', { reference }));
    expect(toPlainText(last(unknown))).toBe(i18n.t('status.not_found', 'en', { reference: 'C-2222ZZ' }));
  });

  it('asks for the reference when the message has none', async () => {
    const ask = await bot.send('any update on my complaint?', 'carol');
    expect(toPlainText(last(ask))).toBe(i18n.t('status.ask_reference', 'en'));
    const answer = await bot.send('c-2222zz', 'carol');
    expect(toPlainText(last(answer))).toBe(i18n.t('status.not_found', 'en', { reference: 'C-2222ZZ' }));
  });

  it('takes a complaint in French, in French', async () => {
    const replies = await bot.send('le lampadaire de ma rue est en panne depuis une semaine', 'francois');
    expect(last(replies)).toMatchObject({ kind: 'choices', text: i18n.t('complaint.ask_category', 'fr') });
    await bot.send('2', 'francois');
    expect(bot.transcript('francois').at(-1)).toBe(i18n.t('complaint.ask_location', 'fr'));
  });

  it('offers anonymity by default for corruption reports', async () => {
    await bot.send('a clerk at the town hall asked me for a bribe to stamp my papers', 'dave');
    await bot.send('7', 'dave'); // corruption
    await bot.send('town hall, 2nd floor', 'dave');
    const anonymous = await bot.send('1', 'dave'); // skip photo
    expect(last(anonymous)).toMatchObject({
      kind: 'choices',
      text: i18n.t('complaint.ask_anonymous_default', 'en'),
      choices: [{ value: 'yes' }, { value: 'no' }],
    });
  });
});

describe('interruptions and state', () => {
  it('help mid-form explains and asks the same question again; cancel stops without creating a case', async () => {
    await bot.send('I want to report a problem with garbage collection in my street', 'erin');
    await bot.send('3', 'erin'); // waste → location
    const help = await bot.send('help', 'erin');
    expect(text(help)).toContain(i18n.t('help.in_form', 'en'));
    expect(last(help)).toMatchObject({
      kind: 'location_request',
      text: i18n.t('complaint.ask_location', 'en'),
    });
    const cancelled = await bot.send('cancel', 'erin');
    expect(toPlainText(last(cancelled))).toBe(i18n.t('common.cancelled', 'en'));
    expect(await bot.db.Case.countDocuments({ category: 'waste' })).toBe(0);
  });

  it('keeps a half-filled form across a restart', async () => {
    await bot.send('the water pipe on my street burst and the road is flooded', 'frank');
    await bot.send('4', 'frank'); // water → location
    await bot.restart();
    const next = await bot.send('Station road 3', 'frank');
    expect(last(next)).toMatchObject({ kind: 'choices', text: i18n.t('complaint.ask_photo', 'en') });
  });

  it('switches language on request, and keeps it even for messages in another language', async () => {
    const ask = await bot.send('can we speak french?', 'gina');
    expect(last(ask)).toMatchObject({ kind: 'choices', text: i18n.t('language.ask', 'en') });
    const changed = await bot.send('Français', 'gina');
    expect(toPlainText(last(changed))).toBe(i18n.t('language.changed', 'fr'));
    const answer = await bot.send('how do i renew my passport', 'gina');
    expect(last(answer)).toMatchObject({ kind: 'link', text: i18n.t('services.passport.answer', 'fr') });
  });
});

describe('handoff to officials', () => {
  it('gives the official the conversation so far, in order, from earlier turns and this one', async () => {
    const greeting = await bot.send('hello', 'ines');
    const handoff = await bot.send('let me speak to a human please', 'ines');
    const reference = REFERENCE.exec(text(handoff))?.[0] ?? '';
    const stored = await bot.db.Case.findOne({ reference }).lean();
    expect(stored?.transcript.map((t) => [t.from, t.text])).toEqual([
      ['citizen', 'hello'],
      ...greeting.map((reply) => ['bot', toPlainText(reply)]),
      ['citizen', 'let me speak to a human please'],
    ]);
    // Settled, so the next test's official finds its own case first in the queue.
    expect((await claimNext(bot.db, 'citizen_services', 'official-0'))?.reference).toBe(reference);
    await resolveCase(bot.db, reference, 'Answered', { kind: 'official', id: 'official-0' });
  });

  it('hands off on request, forwards the citizen to the case, and asks for a rating once resolved', async () => {
    const handoff = await bot.send('let me speak to a human please', 'hana');
    const match = REFERENCE.exec(text(handoff));
    expect(match).not.toBeNull();
    const reference = match?.[0] ?? '';
    const quiet = await bot.send('my tax refund never arrived and I need it urgently', 'hana');
    expect(quiet).toEqual([]);
    const stored = await bot.db.Case.findOne({ reference }).lean();
    expect(stored?.transcript.map((t) => t.text)).toContain(
      'my tax refund never arrived and I need it urgently',
    );

    const official = 'official-1';
    const claimed = await claimNext(bot.db, 'citizen_services', official);
    expect(claimed?.reference).toBe(reference);
    await resolveCase(bot.db, reference, 'Refund sent today', { kind: 'official', id: official });
    const notifier = new CaseNotifier(bot.app.engine, bot.db, bot.app.i18n);
    await notifier.statusChanged(reference, 'resolved', `case:${reference}:resolved`, 'Refund sent today');
    await bot.settle();
    const resolvedMsg = bot.collector.repliesTo('hana').slice(-2);
    expect(toPlainText(resolvedMsg[0] as Reply)).toContain('Refund sent today');
    expect(resolvedMsg[1]).toMatchObject({ kind: 'choices', text: i18n.t('case_update.rating_ask', 'en') });

    const thanks = await bot.send('5', 'hana');
    expect(toPlainText(last(thanks))).toBe(i18n.t('rating.thanks', 'en'));
    expect((await bot.db.Case.findOne({ reference }).lean())?.rating).toBe(5);
  });

  it('hands off after two messages in a row it cannot understand', async () => {
    const first = await bot.send('who won the football match yesterday', 'ivan');
    expect(text(first)).toContain(i18n.t('unknown.menu', 'en'));
    const second = await bot.send('tell me a joke about cats', 'ivan');
    expect(text(second)).toMatch(REFERENCE);
    expect(await bot.db.Case.countDocuments({ kind: 'handoff', category: 'not_understood' })).toBeGreaterThan(
      0,
    );
  });
});

describe('privacy', () => {
  it('erases the citizen personal data after confirmation, keeping the anonymous case facts', async () => {
    const reference = await fileComplaint(
      'jane',
      'the bus stop shelter near my house has been smashed for days',
      {
        category: '6',
        place: 'Oak avenue 77',
      },
    );
    const confirm = await bot.send('delete everything you know about me', 'jane');
    expect(last(confirm)).toMatchObject({ kind: 'choices', text: i18n.t('privacy.confirm', 'en') });
    const done = await bot.send('1', 'jane');
    expect(toPlainText(last(done))).toBe(i18n.t('privacy.erased', 'en'));
    const stored = await bot.db.Case.findOne({ reference }).lean();
    expect(stored).toMatchObject({ category: 'transport', department: 'transport' });
    expect(stored?.fields.description).toBeUndefined();
    expect(stored?.fields.location).toBeUndefined();
    expect(stored?.citizen).toBeUndefined();
    expect(await bot.db.Citizen.countDocuments({ channelUserId: 'jane' })).toBe(0);
    expect(await bot.db.InboundMessage.countDocuments({ 'activity.address.userId': 'jane' })).toBe(0);
  });
});

describe('delivery', () => {
  it('processes a duplicate delivery once', async () => {
    const activity = {
      address: { channel: 'test' as const, userId: 'dup', chatId: 'dup' },
      platformMessageId: 'same-id',
      at: new Date(),
      text: 'how do i get a birth certificate',
    };
    expect(await bot.app.engine.receive(activity)).toBe('accepted');
    expect(await bot.app.engine.receive(activity)).toBe('duplicate');
    await bot.settle();
    const replies = bot.collector.repliesTo('dup');
    expect(
      replies.filter((r) => r.kind === 'link' && r.url === i18n.t('services.birth_certificate.link', 'en')),
    ).toHaveLength(1);
  });

  it('retries failed sends and keeps the replies in order', async () => {
    bot.collector.failNext(3);
    await bot.send('hi', 'kim');
    await bot.collector.waitFor(() => bot.collector.repliesTo('kim').length >= 2);
    const [notice, menu] = bot.collector.repliesTo('kim');
    expect(notice?.kind).toBe('link');
    expect(menu?.kind).toBe('choices');
  });
});
