import pino from 'pino';
import { Telegraf } from 'telegraf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendLimiter } from '../../src/channels/telegram/limiter.js';
import { renderReply, splitText } from '../../src/channels/telegram/render.js';
import { TelegramSender } from '../../src/channels/telegram/sender.js';
import type { Address } from '../../src/engine/activity.js';
import { matchChoice } from '../../src/engine/replies.js';
import { AppError } from '../../src/errors.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';

describe('renderReply', () => {
  it('renders choices as an inline keyboard, one button a row, the value as callback data', () => {
    const [call] = renderReply({
      kind: 'choices',
      text: 'Catégorie ?',
      choices: [
        { value: 'roads', label: 'Voirie' },
        { value: 'lighting', label: 'Éclairage' },
      ],
    });
    expect(call).toEqual({
      method: 'sendMessage',
      text: 'Catégorie ?',
      replyMarkup: {
        inline_keyboard: [
          [{ text: 'Voirie', callback_data: 'roads' }],
          [{ text: 'Éclairage', callback_data: 'lighting' }],
        ],
      },
    });
  });

  it('falls back to positions when a value exceeds 64 bytes, and the engine still maps the tap', () => {
    const choices = [
      { value: 'é'.repeat(40), label: 'Long' }, // 80 bytes in UTF-8
      { value: 'short', label: 'Court' },
    ];
    const [call] = renderReply({ kind: 'choices', text: '?', choices });
    const rows =
      call?.method === 'sendMessage' && call.replyMarkup && 'inline_keyboard' in call.replyMarkup
        ? call.replyMarkup.inline_keyboard
        : [];
    const data = rows.map((row) => (row[0] && 'callback_data' in row[0] ? row[0].callback_data : undefined));
    expect(data).toEqual(['1', '2']);
    expect(matchChoice({ choice: '1' }, choices)?.label).toBe('Long');
  });

  it('renders a link as text plus a URL button, but keeps non-web links in the text', () => {
    expect(
      renderReply({ kind: 'link', text: 'Voir', url: 'https://ville.example/p', label: 'Ouvrir' }),
    ).toEqual([
      {
        method: 'sendMessage',
        text: 'Voir',
        replyMarkup: { inline_keyboard: [[{ text: 'Ouvrir', url: 'https://ville.example/p' }]] },
      },
    ]);
    expect(renderReply({ kind: 'link', text: 'Appelez', url: 'tel:+33100000000', label: 'Appeler' })).toEqual(
      [{ method: 'sendMessage', text: 'Appelez\ntel:+33100000000' }],
    );
  });

  it('asks for a location with a one-time reply keyboard', () => {
    expect(renderReply({ kind: 'location_request', text: 'Où ?', button: 'Envoyer ma position' })).toEqual([
      {
        method: 'sendMessage',
        text: 'Où ?',
        replyMarkup: {
          keyboard: [[{ text: 'Envoyer ma position', request_location: true }]],
          one_time_keyboard: true,
          resize_keyboard: true,
        },
      },
    ]);
  });

  it('sends images as photos and degrades other media to text', () => {
    expect(renderReply({ kind: 'media', url: 'https://x.example/a.jpg', caption: 'Plan' })).toEqual([
      { method: 'sendPhoto', photo: 'https://x.example/a.jpg', caption: 'Plan' },
    ]);
    expect(renderReply({ kind: 'media', url: 'https://x.example/a.pdf', mime: 'application/pdf' })).toEqual([
      { method: 'sendMessage', text: 'https://x.example/a.pdf' },
    ]);
  });

  it('splits text over 4096 characters without losing any, markup on the last part', () => {
    const long = `${'a'.repeat(3000)}\n${'b'.repeat(3000)}\n${'😀'.repeat(3000)}`;
    const parts = splitText(long);
    expect(parts.every((p) => p.length <= 4096)).toBe(true);
    expect(parts.join('').replace(/\n/g, '')).toBe(long.replace(/\n/g, ''));
    const calls = renderReply({ kind: 'choices', text: long, choices: [{ value: 'ok', label: 'OK' }] });
    expect(calls.length).toBe(parts.length);
    expect(calls.slice(0, -1).every((c) => c.method === 'sendMessage' && c.replyMarkup === undefined)).toBe(
      true,
    );
  });
});

describe('SendLimiter', () => {
  /** A clock that only moves when the limiter sleeps: slots are read, never timed. */
  const virtualClock = () => {
    let now = 0;
    return { now: () => now, sleep: async (ms: number) => void (now += ms) };
  };

  it('spaces one chat a second apart and the whole bot at 30 a second', async () => {
    const clock = virtualClock();
    const limiter = new SendLimiter({}, clock.now, clock.sleep);
    const chatSlots = [];
    for (let i = 0; i < 3; i += 1) chatSlots.push(await limiter.acquire('a'));
    expect(chatSlots).toEqual([0, 1000, 2000]);

    const global = new SendLimiter({}, virtualClock().now, async () => undefined);
    const slots = await Promise.all(Array.from({ length: 31 }, (_, i) => global.acquire(`chat-${i}`)));
    const sorted = [...slots].sort((x, y) => x - y);
    expect((sorted[30] ?? 0) - (sorted[0] ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it("lets a burst within the second's budget go at once, and never more than the budget in any second", async () => {
    const clock = virtualClock();
    const limiter = new SendLimiter({ perChatIntervalMs: 0, globalPerSecond: 30 }, clock.now, clock.sleep);
    const slots = [];
    for (let i = 0; i < 65; i += 1) slots.push(await limiter.acquire(`chat-${i}`));
    expect(slots.slice(0, 30)).toEqual(new Array(30).fill(0));
    expect(slots.slice(30, 60)).toEqual(new Array(30).fill(1000));
    expect(slots.slice(60)).toEqual(new Array(5).fill(2000));
    for (let i = 30; i < slots.length; i += 1)
      expect((slots[i] ?? 0) - (slots[i - 30] ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it('holds a chat back for retry_after after a 429, and only that chat', async () => {
    const limiter = new SendLimiter(
      {},
      () => 0,
      async () => undefined,
    );
    limiter.pause('a', 5000);
    const [a, b] = await Promise.all([limiter.acquire('a'), limiter.acquire('b')]);
    expect(a).toBeGreaterThanOrEqual(5000);
    expect(b).toBeLessThan(5000);
  });
});

describe('TelegramSender against the fake Bot API', () => {
  let fake: FakeTelegram;
  let sender: TelegramSender;
  const logged: string[] = [];
  const to: Address = { channel: 'telegram', userId: '55', chatId: '55' };

  beforeAll(async () => {
    fake = await startFakeTelegram();
    const bot = new Telegraf(fake.token, { telegram: { apiRoot: fake.apiRoot } });
    const log = pino({ level: 'warn' }, { write: (line: string) => void logged.push(line) });
    sender = new TelegramSender(
      bot.telegram,
      new SendLimiter({ perChatIntervalMs: 0, globalPerSecond: 1000 }),
      log,
    );
  });
  afterAll(async () => {
    await fake?.close();
  });

  const failure = async (p: Promise<unknown>): Promise<AppError> => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(err instanceof AppError)) throw new Error(`expected an AppError, got ${String(err)}`);
    return err;
  };

  it('sends and returns Telegram message ids', async () => {
    const result = await sender.send(to, { kind: 'media', url: 'https://x.example/a.jpg' });
    expect(result.platformMessageId).toMatch(/^\d+$/);
    expect(fake.callsOf('sendPhoto').at(-1)?.params).toMatchObject({
      chat_id: '55',
      photo: 'https://x.example/a.jpg',
    });
  });

  it('passes retry_after on as retryAfterMs', async () => {
    fake.failNext(1, { code: 429, retryAfter: 3 });
    const err = await failure(sender.send(to, { kind: 'text', text: 'x' }));
    expect(err.code).toBe('CHANNEL_SEND_FAILED');
    expect(err.retryAfterMs).toBe(3000);
  });

  it('throws on 5xx so the outbox retries', async () => {
    fake.failNext(1, { code: 500 });
    // Another chat: chat 55 is still held back by the previous test's retry_after.
    expect((await failure(sender.send({ ...to, chatId: '56' }, { kind: 'text', text: 'x' }))).code).toBe(
      'CHANNEL_SEND_FAILED',
    );
  });

  it('throws on a block by the user and says so in the log', async () => {
    fake.failNext(1, { code: 403, description: 'Forbidden: bot was blocked by the user' });
    const err = await failure(sender.send({ ...to, chatId: '57' }, { kind: 'text', text: 'x' }));
    expect(err.message).toContain('blocked by the user');
    expect(logged.some((l) => l.includes('blocked by the user') && l.includes('"level":50'))).toBe(true);
  });

  it('throws when the Bot API is unreachable', async () => {
    const offline = new Telegraf('1:x', { telegram: { apiRoot: 'http://127.0.0.1:9' } });
    const lonely = new TelegramSender(offline.telegram, new SendLimiter(), pino({ level: 'silent' }));
    expect((await failure(lonely.send(to, { kind: 'text', text: 'x' }))).code).toBe('CHANNEL_SEND_FAILED');
  });
});
