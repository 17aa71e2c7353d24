import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messengerChannel } from '../../src/channels/messenger/index.js';
import { signBody } from '../../src/channels/meta/signature.js';
import { loadTranslator } from '../../src/i18n/index.js';
import { FakeGraph } from '../fakes/graph.js';
import { fbSendSchema, postSigned, REFERENCE, type FbSend } from '../fakes/graph-helpers.js';
import { startTestBot, type TestBot } from '../helpers/bot.js';

const SECRET = 'fb-app-secret';
const VERIFY = 'fb-verify-token';
const PATH = '/webhooks/messenger';
const i18n = loadTranslator();

let bot: TestBot;
let graph: FakeGraph;
let counter = 0;

beforeAll(async () => {
  graph = await new FakeGraph().start();
  bot = await startTestBot({
    channels: [
      messengerChannel({
        pageToken: 'page-token',
        appSecret: SECRET,
        verifyToken: VERIFY,
        graphRoot: graph.root,
        graphVersion: 'v21.0',
      }),
    ],
  });
});
afterAll(async () => {
  await bot?.stop();
  await graph?.stop();
});

type Event = Record<string, unknown> & { sender: { id: string } };
const mid = (): string => `m_in${Date.now()}x${++counter}`;
const message = (from: string, msg: Record<string, unknown>): Event => ({
  sender: { id: from },
  recipient: { id: 'PAGE' },
  timestamp: Date.now(),
  message: { mid: mid(), ...msg },
});
const text = (from: string, body: string): Event => message(from, { text: body });
const envelope = (...entries: Event[][]): Record<string, unknown> => ({
  object: 'page',
  entry: entries.map((messaging, i) => ({ id: 'PAGE', time: Date.now() + i, messaging })),
});

const sent = (to: string): FbSend[] => graph.sentTo(to).map((c) => fbSendSchema.parse(c.body));
const shown = (m: FbSend): string => m.message.text ?? m.message.attachment?.payload.text ?? '';

async function say(event: Event): Promise<FbSend[]> {
  const before = sent(event.sender.id).length;
  const res = await postSigned(bot, PATH, envelope([event]), SECRET);
  expect(res.statusCode).toBe(200);
  await bot.settle();
  return sent(event.sender.id).slice(before);
}
const last = (replies: FbSend[]): FbSend => {
  const m = replies.at(-1);
  if (!m) throw new Error('no reply');
  return m;
};
/** Taps the quick reply at `index`, or types its number when the choices came as numbered text. */
async function pick(from: string, offered: FbSend, index: number): Promise<FbSend[]> {
  const quick = offered.message.quick_replies?.[index];
  if (quick) return say(message(from, { text: quick.title, quick_reply: { payload: quick.payload } }));
  return say(text(from, String(index + 1)));
}

describe('Messenger webhook verification', () => {
  it('echoes hub.challenge for the right verify token and refuses a wrong one', async () => {
    const ok = await bot.app.http.inject({
      method: 'GET',
      url: `${PATH}?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=abc`,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('abc');
    const wrong = await bot.app.http.inject({
      method: 'GET',
      url: `${PATH}?hub.mode=unsubscribe&hub.verify_token=${VERIFY}&hub.challenge=abc`,
    });
    expect(wrong.statusCode).toBe(403);
  });
});

describe('Messenger end to end', () => {
  let reference = '';
  const citizen = 'psid-francoise';

  it('files a French complaint through quick replies and gives a reference', async () => {
    const categories = await say(text(citizen, 'le lampadaire de ma rue est en panne depuis une semaine'));
    expect(shown(last(categories))).toBe(i18n.t('complaint.ask_category', 'fr'));
    expect(last(categories).message.quick_replies?.length).toBeGreaterThan(3);
    const location = await pick(citizen, last(categories), 1); // lighting
    expect(shown(last(location))).toBe(i18n.t('complaint.ask_location', 'fr'));
    const photo = await say(
      message(citizen, {
        attachments: [{ type: 'location', payload: { coordinates: { lat: 45.764, long: 4.8357 } } }],
      }),
    );
    const anonymous = await pick(citizen, last(photo), 0); // skip the photo
    const consent = await pick(citizen, last(anonymous), 0);
    const summary = await pick(citizen, last(consent), 0);
    const created = await pick(citizen, last(summary), 0); // send
    const match = REFERENCE.exec(created.map(shown).join('\n'));
    expect(match).not.toBeNull();
    reference = match?.[0] ?? '';
    const stored = await bot.db.Case.findOne({ reference }).lean();
    expect(stored?.fields.location).toMatchObject({ lat: 45.764, lng: 4.8357 });
    const call = graph.sentTo(citizen)[0];
    expect(call?.path).toBe('/v21.0/me/messages');
    expect(call?.query.access_token).toBe('page-token');
    expect(sent(citizen).every((m) => m.messaging_type === 'RESPONSE')).toBe(true);
  });

  it('answers a status question about that reference', async () => {
    const replies = await say(text(citizen, `où en est mon signalement ${reference} ?`));
    const all = replies.map(shown).join('\n');
    expect(all).toContain(reference);
    expect(all).toContain(i18n.t('case_status.open', 'fr'));
  });

  it('answers after 24 h with the HUMAN_AGENT tag, and sends nothing after 7 days', async () => {
    const address = { channel: 'messenger' as const, userId: citizen, chatId: citizen };
    const setLast = (hours: number): Promise<unknown> =>
      bot.db.Citizen.updateOne(
        { channel: 'messenger', channelUserId: citizen },
        { $set: { lastInboundAt: new Date(Date.now() - hours * 3600_000) } },
      );
    await setLast(30);
    const before = sent(citizen).length;
    await bot.app.engine.notify(
      address,
      (_p, lang) => [{ kind: 'text', text: i18n.t('case_status.resolved', lang) }],
      'fb:update:1',
    );
    await bot.settle();
    const update = sent(citizen).slice(before);
    expect(update).toHaveLength(1);
    expect(update[0]).toMatchObject({ messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' });

    await setLast(8 * 24);
    await bot.app.engine.notify(
      address,
      (_p, lang) => [{ kind: 'text', text: i18n.t('case_status.closed', lang) }],
      'fb:update:2',
    );
    const dead = async (): Promise<{ status: string; lastError?: string } | null> =>
      bot.db.OutboundMessage.findOne({ idempotencyKey: 'fb:update:2:0' }).lean();
    for (let i = 0; i < 200 && (await dead())?.status !== 'dead'; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(await dead()).toMatchObject({ status: 'dead' });
    expect((await dead())?.lastError).toContain('7 days');
    expect(sent(citizen)).toHaveLength(before + 1);
  });
});

describe('Messenger delivery guarantees', () => {
  it('refuses a forged or missing signature with 401 and persists nothing', async () => {
    const before = await bot.db.InboundMessage.countDocuments();
    const payload = JSON.stringify(envelope([text('psid-mallory', 'hello')]));
    const forged = await postSigned(bot, PATH, payload, SECRET, signBody(payload, 'wrong'));
    const missing = await postSigned(bot, PATH, payload, SECRET, '');
    const short = await postSigned(bot, PATH, payload, SECRET, 'sha256=abcd');
    for (const res of [forged, missing, short]) {
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toContain(signBody(payload, SECRET).slice(7));
    }
    await bot.settle();
    expect(await bot.db.InboundMessage.countDocuments()).toBe(before);
    expect(sent('psid-mallory')).toHaveLength(0);
  });

  it('processes every event of 2 entries × 2 messaging events, ignoring echoes, deliveries and reads', async () => {
    const users = ['psid-b1', 'psid-b2', 'psid-b3', 'psid-b4'];
    const events = users.map((u) => text(u, 'hello'));
    const echo = message('psid-b1', { is_echo: true, text: 'our own reply' });
    const delivery: Event = { sender: { id: 'psid-b2' }, delivery: { mids: ['m_x'], watermark: 1 } };
    const read: Event = { sender: { id: 'psid-b3' }, read: { watermark: 1 } };
    const payload = envelope(
      [events[0] as Event, echo, events[1] as Event],
      [delivery, events[2] as Event, read, events[3] as Event],
    );
    expect((await postSigned(bot, PATH, payload, SECRET)).statusCode).toBe(200);
    await bot.settle();
    const mids = events.map((e) => (e.message as { mid: string }).mid);
    expect(
      await bot.db.InboundMessage.countDocuments({ channel: 'messenger', platformMessageId: { $in: mids } }),
    ).toBe(4);
    expect(
      await bot.db.InboundMessage.countDocuments({
        platformMessageId: (echo.message as { mid: string }).mid,
      }),
    ).toBe(0);
    for (const u of users) expect(sent(u).length).toBeGreaterThan(0);
  });

  it('processes the same delivery once', async () => {
    const event = text('psid-dup', 'hello');
    const payload = envelope([event]);
    expect((await postSigned(bot, PATH, payload, SECRET)).statusCode).toBe(200);
    await bot.settle();
    const first = sent('psid-dup').length;
    expect((await postSigned(bot, PATH, payload, SECRET)).statusCode).toBe(200);
    await bot.settle();
    expect(sent('psid-dup')).toHaveLength(first);
  });

  it('delivers every reply, in order, through 429, 500 and a 613 rate-limit error', async () => {
    const user = 'psid-retry';
    graph.failNext(1, 429, 0);
    graph.failNext(1, 500);
    graph.failNextWithGraphError(1, 613);
    expect((await postSigned(bot, PATH, envelope([text(user, 'hello')]), SECRET)).statusCode).toBe(200);
    await bot.settle();
    const outbound = async (): Promise<{ status: string; platformMessageId?: string }[]> =>
      bot.db.OutboundMessage.find({ conversationKey: `messenger:${user}` })
        .sort({ seq: 1 })
        .lean();
    await graph.waitFor(() => graph.calls.filter((c) => c.status !== 200).length >= 3);
    for (let i = 0; i < 200 && (await outbound()).some((o) => o.status !== 'sent'); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const records = await outbound();
    expect(records.length).toBeGreaterThanOrEqual(2);
    expect(records.every((r) => r.status === 'sent')).toBe(true);
    const order = records.map((r) => Number(/(\d+)$/.exec(r.platformMessageId ?? '')?.[1]));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });
});
