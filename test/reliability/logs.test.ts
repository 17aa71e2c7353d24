import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TELEGRAM_WEBHOOK_PATH, telegramChannel } from '../../src/channels/telegram/index.js';
import { createLogger } from '../../src/log.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import { startTestMongo, type TestMongo } from '../helpers/mongo.js';
import { CountingNlu, eventually, RecordingPlatform, startInstance, type Instance } from './support.js';

const TOKEN = '123456:LOGS-token';
const SECRET = 'logs-webhook-secret_0123456789';
const CHAT = 7319;
const TEXT = 'Quokka-Zeppelin, my phone is +33 6 12 34 56 78 and mail quokka@example.org, ID 880412-1234';

const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  },
});

let mongo: TestMongo;
let fake: FakeTelegram;
let bot: Instance;

beforeAll(async () => {
  mongo = await startTestMongo();
  fake = await startFakeTelegram(TOKEN);
  bot = await startInstance(
    mongo.uri,
    new CountingNlu(),
    new RecordingPlatform(),
    {},
    {
      log: createLogger('trace', sink),
      channels: [
        telegramChannel({
          token: TOKEN,
          apiRoot: fake.apiRoot,
          webhook: { publicUrl: 'https://bot.example.gov/', secret: SECRET },
          limits: { perChatIntervalMs: 5, globalPerSecond: 500 },
        }),
      ],
    },
  );
});
afterAll(async () => {
  await bot?.stop();
  await fake?.close();
  await mongo?.stop();
});

const update = (id: number, text: string) => ({
  update_id: id,
  message: {
    message_id: id,
    date: Math.floor(Date.now() / 1000),
    chat: { id: CHAT, type: 'private', first_name: 'Quokka' },
    from: { id: CHAT, is_bot: false, first_name: 'Quokka', username: 'quokka_z', language_code: 'en' },
    text,
  },
});

describe('logs of a turn', () => {
  it('hold no message text, user id, name, phone, e-mail or secret, even when sending fails', async () => {
    // The platform refuses twice (a server error, then a refusal naming the chat) before accepting.
    fake.failNext(1, { code: 500 });
    fake.failNext(1, { code: 400, description: `Bad Request: chat ${CHAT} quokka@example.org not found` });
    const post = (body: unknown, secret = SECRET) =>
      bot.app.http.inject({
        method: 'POST',
        url: TELEGRAM_WEBHOOK_PATH,
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
        payload: JSON.stringify(body),
      });
    expect((await post(update(1, TEXT))).statusCode).toBe(200);
    expect((await post(update(2, `${TEXT} again`))).statusCode).toBe(200);
    expect((await post(update(3, 'wrong secret'), 'nope')).statusCode).toBe(401);
    await eventually(() => fake.sentTo(CHAT).length >= 2);
    await bot.app.engine.idle();

    const log = lines.join('\n');
    expect(lines.length).toBeGreaterThan(3); // the turn did log: requests, the failed sends
    expect(log).toMatch(/telegram server error/);
    for (const secretOrPersonal of [
      'Quokka',
      'quokka',
      'Zeppelin',
      '12 34 56 78',
      '880412',
      'example.org',
      SECRET,
      TOKEN,
      '127.0.0.1',
    ])
      expect(log).not.toContain(secretOrPersonal);
    expect(log).not.toMatch(new RegExp(`\\b${CHAT}\\b`));
  });
});
