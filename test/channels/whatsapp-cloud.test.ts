import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatsappCloudChannel } from '../../src/channels/whatsapp-cloud/index.js';
import { signBody } from '../../src/channels/meta/signature.js';
import { loadTranslator } from '../../src/i18n/index.js';
import { FakeGraph } from '../fakes/graph.js';
import { postSigned, REFERENCE, waSendSchema, type WaSend } from '../fakes/graph-helpers.js';
import { startTestBot, type TestBot } from '../helpers/bot.js';

const SECRET = 'wa-app-secret';
const VERIFY = 'wa-verify-token';
const PATH = '/webhooks/whatsapp';
const i18n = loadTranslator();

let bot: TestBot;
let graph: FakeGraph;
let counter = 0;

beforeAll(async () => {
  graph = await new FakeGraph().start();
  bot = await startTestBot({
    channels: [
      whatsappCloudChannel({
        token: 'wa-token',
        phoneNumberId: '1234567890',
        appSecret: SECRET,
        verifyToken: VERIFY,
        graphRoot: graph.root,
        graphVersion: 'v21.0',
        updateTemplate: 'case_update',
      }),
    ],
  });
});
afterAll(async () => {
  await bot?.stop();
  await graph?.stop();
});

type Message = Record<string, unknown> & { from: string; id: string };
const nextId = (): string => `wamid.in${Date.now()}x${++counter}`;
const now = (): string => String(Math.floor(Date.now() / 1000));
const text = (from: string, body: string): Message => ({
  from,
  id: nextId(),
  timestamp: now(),
  type: 'text',
  text: { body },
});
const tap = (from: string, id: string, kind: 'button_reply' | 'list_reply'): Message => ({
  from,
  id: nextId(),
  timestamp: now(),
  type: 'interactive',
  interactive: { type: kind, [kind]: { id, title: id } },
});
const change = (messages: Message[]): Record<string, unknown> => ({
  field: 'messages',
  value: {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: '15550001111', phone_number_id: '1234567890' },
    contacts: messages.map((m) => ({ wa_id: m.from, profile: { name: 'Citizen' } })),
    messages,
  },
});
const envelope = (...changes: Record<string, unknown>[][]): Record<string, unknown> => ({
  object: 'whatsapp_business_account',
  entry: changes.map((c, i) => ({ id: `waba-${i}`, changes: c })),
});

const sent = (to: string): WaSend[] => graph.sentTo(to).map((c) => waSendSchema.parse(c.body));
const shown = (m: WaSend): string =>
  m.text?.body ?? m.interactive?.body?.text ?? m.template?.components[0]?.parameters[0]?.text ?? '';
const ids = (m: WaSend): string[] =>
  m.interactive?.action?.buttons?.map((b) => b.reply.id) ??
  m.interactive?.action?.sections?.flatMap((s) => s.rows.map((r) => r.id)) ??
  [];

/** Delivers one signed message and returns what the bot sent back to its author. */
async function say(message: Message): Promise<WaSend[]> {
  const before = sent(message.from).length;
  const res = await postSigned(bot, PATH, envelope([change([message])]), SECRET);
  expect(res.statusCode).toBe(200);
  await bot.settle();
  return sent(message.from).slice(before);
}
const last = (replies: WaSend[]): WaSend => {
  const m = replies.at(-1);
  if (!m) throw new Error('no reply');
  return m;
};
/** Taps the offered choice at `index`, as a button or a list row depending on how it was rendered. */
async function pick(from: string, offered: WaSend, index: number): Promise<WaSend[]> {
  const id = ids(offered)[index];
  if (!id) throw new Error(`no choice ${index} in ${JSON.stringify(offered)}`);
  return say(tap(from, id, offered.interactive?.type === 'list' ? 'list_reply' : 'button_reply'));
}

describe('WhatsApp Cloud webhook verification', () => {
  it('echoes hub.challenge for the right verify token and refuses a wrong one', async () => {
    const ok = await bot.app.http.inject({
      method: 'GET',
      url: `${PATH}?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=12345`,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('12345');
    expect(ok.headers['content-type']).toContain('text/plain');
    const wrong = await bot.app.http.inject({
      method: 'GET',
      url: `${PATH}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=12345`,
    });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.body).not.toContain('12345');
  });
});

describe('WhatsApp Cloud end to end', () => {
  let reference = '';
  const citizen = '33611111111';

  it('files a French complaint through interactive replies and gives a reference', async () => {
    const categories = await say(text(citizen, 'le lampadaire de ma rue est en panne depuis une semaine'));
    const ask = last(categories);
    expect(ask.type).toBe('interactive');
    expect(shown(ask)).toBe(i18n.t('complaint.ask_category', 'fr'));
    const location = await pick(citizen, ask, 1); // lighting
    expect(last(location).interactive?.type).toBe('location_request_message');
    const photo = await say({
      from: citizen,
      id: nextId(),
      timestamp: now(),
      type: 'location',
      location: { latitude: 48.8566, longitude: 2.3522 },
    });
    const anonymous = await pick(citizen, last(photo), 0); // skip the photo
    const consent = await pick(citizen, last(anonymous), 0); // with my name
    const summary = await pick(citizen, last(consent), 0); // yes
    const created = await pick(citizen, last(summary), 0); // send
    const match = REFERENCE.exec(created.map(shown).join('\n'));
    expect(match).not.toBeNull();
    reference = match?.[0] ?? '';
    const stored = await bot.db.Case.findOne({ reference }).lean();
    expect(stored).toMatchObject({ category: 'lighting' });
    expect(stored?.fields.location).toMatchObject({ lat: 48.8566, lng: 2.3522 });
    // Every send went to the configured number with the bearer token.
    const call = graph.sentTo(citizen)[0];
    expect(call?.path).toBe('/v21.0/1234567890/messages');
    expect(call?.headers.authorization).toBe('Bearer wa-token');
  });

  it('answers a status question about that reference, in French', async () => {
    const replies = await say(text(citizen, `où en est mon signalement ${reference} ?`));
    const all = replies.map(shown).join('\n');
    expect(all).toContain(reference);
    expect(all).toContain(i18n.t('case_status.open', 'fr'));
  });

  it('sends a case update to a citizen whose last message is 25 h old as the approved template', async () => {
    await bot.db.Citizen.updateOne(
      { channel: 'whatsapp', channelUserId: citizen },
      { $set: { lastInboundAt: new Date(Date.now() - 25 * 3600_000) } },
    );
    const before = sent(citizen).length;
    await bot.app.engine.notify(
      { channel: 'whatsapp', userId: citizen, chatId: citizen },
      (_profile, lang) => [{ kind: 'text', text: i18n.t('case_status.resolved', lang) }],
      `test:update:${reference}`,
    );
    await bot.settle();
    const update = sent(citizen).slice(before);
    expect(update).toHaveLength(1);
    expect(update[0]).toMatchObject({
      type: 'template',
      template: { name: 'case_update', language: { code: 'fr' } },
    });
    expect(shown(update[0] as WaSend)).toBe(i18n.t('case_status.resolved', 'fr'));
  });
});

describe('WhatsApp Cloud delivery guarantees', () => {
  it('refuses a forged or missing signature with 401, revealing nothing and persisting nothing', async () => {
    const before = await bot.db.InboundMessage.countDocuments();
    const payload = JSON.stringify(envelope([change([text('33622222222', 'bonjour')])]));
    const forged = await postSigned(bot, PATH, payload, SECRET, signBody(payload, 'not-the-secret'));
    const missing = await postSigned(bot, PATH, payload, SECRET, '');
    const tampered = await postSigned(
      bot,
      PATH,
      payload.replace('bonjour', 'bonsoir'),
      SECRET,
      signBody(payload, SECRET),
    );
    for (const res of [forged, missing, tampered]) {
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toContain(signBody(payload, SECRET).slice(7));
    }
    await bot.settle();
    expect(await bot.db.InboundMessage.countDocuments()).toBe(before);
    expect(sent('33622222222')).toHaveLength(0);
  });

  it('answers 400 to signed malformed JSON', async () => {
    const res = await postSigned(bot, PATH, '{"entry": [', SECRET);
    expect(res.statusCode).toBe(400);
  });

  it('processes every message of a batch of 2 entries × 2 changes, and ignores statuses', async () => {
    const users = ['33630000001', '33630000002', '33630000003', '33630000004'];
    const messages = users.map((u) => text(u, 'bonjour'));
    const status = {
      field: 'messages',
      value: { statuses: [{ id: 'wamid.out', status: 'delivered', recipient_id: users[0] }] },
    };
    const payload = envelope(
      [change([messages[0] as Message]), change([messages[1] as Message]), status],
      [change([messages[2] as Message]), change([messages[3] as Message])],
    );
    const res = await postSigned(bot, PATH, payload, SECRET);
    expect(res.statusCode).toBe(200);
    await bot.settle();
    const stored = await bot.db.InboundMessage.countDocuments({
      channel: 'whatsapp',
      platformMessageId: { $in: messages.map((m) => m.id) },
    });
    expect(stored).toBe(4);
    for (const u of users) expect(sent(u).length).toBeGreaterThan(0);
  });

  it('processes the same delivery once', async () => {
    const message = text('33640000000', 'bonjour');
    const payload = envelope([change([message])]);
    expect((await postSigned(bot, PATH, payload, SECRET)).statusCode).toBe(200);
    await bot.settle();
    const first = sent('33640000000').length;
    expect((await postSigned(bot, PATH, payload, SECRET)).statusCode).toBe(200);
    await bot.settle();
    expect(sent('33640000000')).toHaveLength(first);
    expect(await bot.db.InboundMessage.countDocuments({ platformMessageId: message.id })).toBe(1);
  });

  it('delivers every reply, in order, when Graph answers 429 then 500 then throughput error 130429', async () => {
    const user = '33650000000';
    graph.failNext(1, 429, 0);
    graph.failNext(1, 500);
    graph.failNextWithGraphError(1, 130429);
    const res = await postSigned(bot, PATH, envelope([change([text(user, 'bonjour')])]), SECRET);
    expect(res.statusCode).toBe(200);
    await bot.settle();
    const outbound = async (): Promise<{ status: string; platformMessageId?: string }[]> =>
      bot.db.OutboundMessage.find({ conversationKey: `whatsapp:${user}` })
        .sort({ seq: 1 })
        .lean();
    await graph.waitFor(() => graph.calls.filter((c) => c.status !== 200).length >= 3);
    for (let i = 0; i < 200 && (await outbound()).some((o) => o.status !== 'sent'); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const records = await outbound();
    expect(records.length).toBeGreaterThanOrEqual(2);
    expect(records.every((r) => r.status === 'sent')).toBe(true);
    // The fake numbers its wamids in arrival order: queue order and delivery order agree.
    const order = records.map((r) => Number(/(\d+)$/.exec(r.platformMessageId ?? '')?.[1]));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(sent(user)).toHaveLength(records.length);
  });
});
