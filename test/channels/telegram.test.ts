import Fastify from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { telegramChannel } from '../../src/channels/telegram/index.js';
import { loadTranslator } from '../../src/i18n/index.js';
import { startTestBot, type TestBot } from '../helpers/bot.js';
import { startFakeTelegram, type FakeTelegram, type RecordedCall } from '../fakes/telegram.js';

const i18n = loadTranslator();
const REFERENCE = /C-[2-9A-HJKMNP-Z]{6}/;
const SECRET = 'test-webhook-secret_0123456789';
const TOKEN = '123456:TEST-token';
// Fast pacing keeps the file quick; the default limits (1/s per chat, 30/s) are the limiter's own tests.
const LIMITS = { perChatIntervalMs: 20, globalPerSecond: 200 };

const sentSchema = z.object({
  text: z.string().optional(),
  caption: z.string().optional(),
  reply_markup: z
    .object({
      inline_keyboard: z
        .array(
          z.array(
            z.object({ text: z.string(), callback_data: z.string().optional(), url: z.string().optional() }),
          ),
        )
        .optional(),
      keyboard: z
        .array(z.array(z.object({ text: z.string(), request_location: z.boolean().optional() })))
        .optional(),
      one_time_keyboard: z.boolean().optional(),
    })
    .optional(),
});
const sent = (call: RecordedCall): z.infer<typeof sentSchema> => sentSchema.parse(call.params);
const texts = (calls: readonly RecordedCall[]): string[] =>
  calls.map((c) => sent(c).text ?? sent(c).caption ?? '');

let updateId = 5000;
const user = (chatId: number) => ({ id: chatId, is_bot: false, first_name: 'Camille', language_code: 'fr' });
const chat = (chatId: number) => ({ id: chatId, type: 'private', first_name: 'Camille' });
const message = (chatId: number, fields: Record<string, unknown>) => ({
  update_id: ++updateId,
  message: {
    message_id: updateId,
    date: Math.floor(Date.now() / 1000),
    chat: chat(chatId),
    from: user(chatId),
    ...fields,
  },
});
const textUpdate = (chatId: number, text: string) => message(chatId, { text });
const tapUpdate = (chatId: number, data: string) => ({
  update_id: ++updateId,
  callback_query: {
    id: `cb-${updateId}`,
    from: user(chatId),
    chat_instance: 'ci',
    message: { message_id: 1, date: Math.floor(Date.now() / 1000), chat: chat(chatId), text: '…' },
    data,
  },
});

describe('telegram, webhook mode', () => {
  let fake: FakeTelegram;
  let bot: TestBot;

  beforeAll(async () => {
    fake = await startFakeTelegram(TOKEN);
    bot = await startTestBot({
      channels: [
        telegramChannel({
          token: TOKEN,
          apiRoot: fake.apiRoot,
          webhook: { publicUrl: 'https://bot.example.gov/', secret: SECRET },
          limits: LIMITS,
        }),
      ],
    });
  });
  afterAll(async () => {
    await bot?.stop();
    await fake?.close();
  });

  const post = (update: unknown, secret: string | null = SECRET) =>
    bot.app.http.inject({
      method: 'POST',
      url: '/webhooks/telegram',
      headers: {
        'content-type': 'application/json',
        ...(secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret }),
      },
      payload: JSON.stringify(update),
    });

  /** Delivers an update as Telegram would and returns what the bot sent to the chat because of it. */
  async function deliver(chatId: number, update: unknown): Promise<RecordedCall[]> {
    const before = fake.sentTo(chatId).length;
    const res = await post(update);
    expect(res.statusCode).toBe(200);
    await bot.settle();
    return fake.sentTo(chatId).slice(before);
  }

  const lastKeyboard = (calls: RecordedCall[]) => {
    const withKeyboard = calls.filter((c) => sent(c).reply_markup?.inline_keyboard !== undefined).at(-1);
    const rows = withKeyboard ? sent(withKeyboard).reply_markup?.inline_keyboard : undefined;
    if (!rows) throw new Error(`no inline keyboard in: ${texts(calls).join(' | ')}`);
    return rows.map((row) => row[0]);
  };
  const tapFirst = async (chatId: number, calls: RecordedCall[]): Promise<RecordedCall[]> => {
    const data = lastKeyboard(calls)[0]?.callback_data;
    if (data === undefined) throw new Error('first button has no callback data');
    return deliver(chatId, tapUpdate(chatId, data));
  };

  it('registers its webhook with the secret token and the update kinds it handles', () => {
    const [call] = fake.callsOf('setWebhook');
    expect(call?.params).toMatchObject({
      url: 'https://bot.example.gov/webhooks/telegram',
      secret_token: SECRET,
      allowed_updates: ['message', 'callback_query'],
    });
  });

  let reference = '';
  it('files a French complaint through inline-keyboard taps and sends the reference', async () => {
    const chatId = 7001;
    const first = await deliver(
      chatId,
      textUpdate(chatId, 'le lampadaire de ma rue est cassé depuis une semaine'),
    );
    expect(texts(first)).toContain(i18n.t('complaint.ask_category', 'fr'));
    const categories = lastKeyboard(first);
    const lighting = categories.find((b) => b?.callback_data === 'lighting') ?? categories[1];
    expect(lighting?.callback_data).toBeDefined();
    const taps = fake.callsOf('answerCallbackQuery').length;

    const askLocation = await deliver(chatId, tapUpdate(chatId, lighting?.callback_data ?? ''));
    expect(fake.callsOf('answerCallbackQuery').length).toBe(taps + 1);
    const locationRequest = sent(askLocation.at(-1) ?? { method: '', params: {} });
    expect(locationRequest.text).toBe(i18n.t('complaint.ask_location', 'fr'));
    expect(locationRequest.reply_markup).toMatchObject({
      keyboard: [[{ request_location: true }]],
      one_time_keyboard: true,
    });

    const askPhoto = await deliver(
      chatId,
      message(chatId, { location: { latitude: 48.8566, longitude: 2.3522 } }),
    );
    const askAnonymous = await tapFirst(chatId, askPhoto); // skip the photo
    const askConsent = await tapFirst(chatId, askAnonymous); // not anonymous
    const summary = await tapFirst(chatId, askConsent); // consent
    const created = await tapFirst(chatId, summary); // send
    const match = REFERENCE.exec(texts(created).join('\n'));
    expect(match).not.toBeNull();
    reference = match?.[0] ?? '';
    const stored = await bot.db.Case.findOne({ reference }).lean();
    expect(stored).toMatchObject({ kind: 'complaint', category: 'lighting' });
    expect(stored?.fields.location).toMatchObject({ lat: 48.8566, lng: 2.3522 });
  });

  it('answers "où en est ma plainte" with the status of that reference', async () => {
    expect(reference).not.toBe('');
    const replies = await deliver(7001, textUpdate(7001, `où en est ma plainte ${reference} ?`));
    const said = texts(replies).join('\n');
    expect(said).toContain(reference);
    expect(said).toContain(i18n.t('case_status.open', 'fr'));
  });

  it('refuses a forged or missing secret with 401 and stores nothing', async () => {
    const before = await bot.db.InboundMessage.countDocuments({ channel: 'telegram' });
    const sends = fake.calls.length;
    const forged = await post(textUpdate(7002, 'bonjour'), 'not-the-secret');
    const sameLength = await post(textUpdate(7002, 'bonjour'), SECRET.replace(/.$/, 'X'));
    const missing = await post(textUpdate(7002, 'bonjour'), null);
    const notJson = await bot.app.http.inject({
      method: 'POST',
      url: '/webhooks/telegram',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'nope' },
      payload: '{not json',
    });
    expect([forged, sameLength, missing, notJson].map((r) => r.statusCode)).toEqual([401, 401, 401, 401]);
    for (const res of [forged, sameLength, missing, notJson]) {
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toContain(SECRET);
    }
    await bot.settle();
    expect(await bot.db.InboundMessage.countDocuments({ channel: 'telegram' })).toBe(before);
    expect(fake.calls.length).toBe(sends);
  });

  it('processes an update delivered twice only once', async () => {
    const chatId = 7003;
    const update = textUpdate(chatId, 'quels sont les horaires de la mairie ?');
    const first = await post(update);
    const second = await post(update);
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(first.json()).toMatchObject({ outcome: 'accepted' });
    expect(second.json()).toMatchObject({ outcome: 'duplicate' });
    await bot.settle();
    const once = fake.sentTo(chatId).length;
    expect(once).toBeGreaterThan(0);
    // The same conversation on a fresh chat says exactly as much: nothing was answered twice.
    await deliver(7004, textUpdate(7004, 'quels sont les horaires de la mairie ?'));
    expect(fake.sentTo(7004).length).toBe(once);
  });

  it('acknowledges update kinds it does not handle with 200 and no reply', async () => {
    const res = await post({
      update_id: ++updateId,
      edited_message: { message_id: 1, date: 0, chat: chat(7005) },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'ignored' });
    await bot.settle();
    expect(fake.sentTo(7005)).toHaveLength(0);
  });

  it('loses nothing and keeps order when Telegram answers 429 (retry_after 1) then 500', async () => {
    const reference = await deliver(7006, textUpdate(7006, 'bonjour'));
    const expected = texts(reference);
    expect(expected.length).toBeGreaterThan(1);

    fake.failNext(1, { code: 429, retryAfter: 1 });
    fake.failNext(1, { code: 500 });
    const res = await post(textUpdate(7007, 'bonjour'));
    expect(res.statusCode).toBe(200);
    await fake.waitFor(() => fake.sentTo(7007).length >= expected.length);
    await bot.settle();
    expect(texts(fake.sentTo(7007))).toEqual(expected);
    expect(fake.calls.filter((c) => c.params.failed !== undefined).map((c) => c.params.failed)).toEqual([
      429, 500,
    ]);
  });

  it('answers 500 so Telegram redelivers, then 200 once it is stored; the secret is never logged', async () => {
    const fake = await startFakeTelegram(TOKEN);
    const lines: string[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    let refusals = 1;
    const stored: string[] = [];
    const channel = telegramChannel({
      token: TOKEN,
      apiRoot: fake.apiRoot,
      webhook: { publicUrl: 'https://bot.example.gov', secret: SECRET },
      log,
    })({
      receive: async (activity) => {
        if (refusals-- > 0) throw new Error('database unavailable');
        stored.push(activity.platformMessageId);
        return 'accepted';
      },
      db: bot.db,
      log,
      i18n: loadTranslator(),
    });
    const app = Fastify();
    await channel.routes?.(app);
    const update = textUpdate(9001, 'bonjour');
    const deliver = (secret: string) =>
      app.inject({
        method: 'POST',
        url: '/webhooks/telegram',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
        payload: JSON.stringify(update),
      });
    expect((await deliver(SECRET)).statusCode).toBe(500);
    expect((await deliver('forged-secret-value')).statusCode).toBe(401);
    expect((await deliver(SECRET)).statusCode).toBe(200);
    expect(stored).toEqual([`u${update.update_id}`]);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(SECRET);
    await app.close();
    await fake.close();
  });
});

describe('telegram, long polling', () => {
  let fake: FakeTelegram;
  let bot: TestBot;

  beforeAll(async () => {
    fake = await startFakeTelegram(TOKEN);
    bot = await startTestBot({
      channels: [
        telegramChannel({
          token: TOKEN,
          apiRoot: fake.apiRoot,
          limits: LIMITS,
          log: pino({ level: 'silent' }),
        }),
      ],
    });
  });
  afterAll(async () => {
    await bot?.stop();
    await fake?.close();
  });

  it('answers an update queued in getUpdates, and confirms it with the next offset', async () => {
    expect(fake.callsOf('deleteWebhook')).toHaveLength(1);
    const id = fake.queueUpdate(textUpdate(8001, 'le lampadaire de ma rue est cassé depuis une semaine'));
    await fake.waitFor(() => texts(fake.sentTo(8001)).includes(i18n.t('complaint.ask_category', 'fr')));
    await fake.waitFor((calls) =>
      calls.some((c) => c.method === 'getUpdates' && Number(c.params.offset) === id + 1),
    );
    // A tap comes back the same way and moves the form on.
    fake.queueUpdate(tapUpdate(8001, 'lighting'));
    await fake.waitFor(() => texts(fake.sentTo(8001)).includes(i18n.t('complaint.ask_location', 'fr')));
    expect(fake.callsOf('answerCallbackQuery')).toHaveLength(1);
  });
});
