import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wweb from 'whatsapp-web.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  isWhatsappWebChannel,
  whatsappWebChannel,
  type WhatsappWebChannel,
} from '../../src/channels/whatsapp-web/index.js';
import { loadTranslator } from '../../src/i18n/index.js';
import { FakeWwebClient, wwebMessage } from '../fakes/wweb.js';
import { startTestBot, type TestBot } from '../helpers/bot.js';

const i18n = loadTranslator();
const REFERENCE = /C-[2-9A-HJKMNP-Z]{6}/;

let bot: TestBot;
let channel: WhatsappWebChannel;
let dataPath: string;
const clients: FakeWwebClient[] = [];
const shownQrs: string[] = [];
const fake = (): FakeWwebClient => {
  const current = clients.at(-1);
  if (!current) throw new Error('no client was built');
  return current;
};

beforeAll(async () => {
  dataPath = await mkdtemp(join(tmpdir(), 'wweb-'));
  bot = await startTestBot({
    channels: [
      whatsappWebChannel({
        chromiumPath: '/usr/bin/chromium',
        dataPath,
        clientFactory: (auth) => {
          const client = new FakeWwebClient(auth);
          clients.push(client);
          return client;
        },
        onQr: (qr) => shownQrs.push(qr),
        // Pacing is unit-tested below; here it only needs to keep order without slowing the flow.
        rateLimit: { perChatMs: 1, globalGapMs: 0 },
        reconnectDelayMs: 10,
      }),
    ],
  });
  const found = bot.app.channels.find(isWhatsappWebChannel);
  if (!found) throw new Error('the WhatsApp Web channel is not mounted');
  channel = found;
});
afterAll(async () => {
  await bot?.stop();
  if (dataPath) await rm(dataPath, { recursive: true, force: true });
});

/** Delivers a message event the way whatsapp-web.js does, and returns what the citizen got back. */
async function say(from: string, message: Record<string, unknown>): Promise<string[]> {
  const before = fake().to(from).length;
  fake().emit('message', message);
  await channel.idle();
  await bot.settle();
  return fake().to(from).slice(before);
}
const text = (from: string, body: string): Promise<string[]> => say(from, wwebMessage(from, body));

describe('WhatsApp Web login', () => {
  it('shows the QR to the terminal hook and to admins, and forgets it once logged in', async () => {
    // start() built the client with a RemoteAuth strategy over the MongoDB store and initialized it.
    expect(fake().initialized).toBe(true);
    expect(fake().authStrategy).toBeInstanceOf(wweb.RemoteAuth);
    await vi.waitFor(() => expect(channel.latestQr()).toBeDefined());
    expect(shownQrs).toEqual([channel.latestQr()]);
    expect(channel.status()).toBe('qr');

    fake().scan();
    expect(channel.status()).toBe('ready');
    expect(channel.latestQr()).toBeUndefined();
  });
});

describe('a citizen on WhatsApp Web', () => {
  const camille = '33612345678@c.us';

  it('files a complaint in French with numbered answers, a shared location and a photo, and gets a reference', async () => {
    const categories = await text(camille, 'le lampadaire de ma rue est en panne depuis une semaine');
    const question = categories.at(-1) ?? '';
    // No buttons on WhatsApp Web: the choices arrive as numbered lines.
    expect(question.startsWith(i18n.t('complaint.ask_category', 'fr'))).toBe(true);
    expect(question).toMatch(/\n1\. .+\n2\. /);

    expect(await text(camille, '2')).toContain(i18n.t('complaint.ask_location', 'fr'));
    const afterLocation = await say(
      camille,
      wwebMessage(camille, '/9j/4AAQSkZJRgABAQAAAQABAAD', {
        type: 'location',
        location: { latitude: 48.8566, longitude: 2.3522, description: '' },
      }),
    );
    expect(afterLocation.join('\n')).toContain(i18n.t('complaint.ask_photo', 'fr'));
    const afterPhoto = await say(
      camille,
      wwebMessage(camille, '', { type: 'image', hasMedia: true, _data: { mimetype: 'image/jpeg' } }),
    );
    expect(afterPhoto.join('\n')).toContain(i18n.t('complaint.ask_anonymous', 'fr'));
    await text(camille, '1'); // not anonymous → consent
    await text(camille, '1'); // consent → summary
    const created = await text(camille, '1'); // send
    const reference = REFERENCE.exec(created.join('\n'))?.[0];
    expect(reference).toBeDefined();

    const stored = await bot.db.Case.findOne({ reference }).lean();
    expect(stored?.fields.location).toMatchObject({ lat: 48.8566, lng: 2.3522 });
    expect(stored?.fields.photos).toMatchObject([{ contentType: 'image/jpeg' }]);

    const status = await text(camille, `où en est mon dossier ${reference} ?`);
    expect(status.join('\n')).toContain(reference);
    expect(status.join('\n')).toContain(i18n.t('case_status.open', 'fr'));
  });

  it('processes a message event delivered twice only once', async () => {
    const chat = '33699999999@c.us';
    const message = wwebMessage(chat, 'bonjour');
    const first = await say(chat, message);
    expect(first.length).toBeGreaterThan(0);
    expect(await say(chat, message)).toEqual([]);
    expect(await bot.db.InboundMessage.countDocuments({ 'activity.address.chatId': chat })).toBe(1);
  });

  it('ignores its own messages, status updates and groups', async () => {
    const group = '120363025555555555@g.us';
    const own = wwebMessage('33611111111@c.us', 'bonjour', { fromMe: true });
    const status = wwebMessage('status@broadcast', 'ma story', { isStatus: true });
    const inGroup = wwebMessage(group, 'bonjour le groupe', { author: '33622222222@c.us' });
    for (const m of [own, status, inGroup]) fake().emit('message', m);
    fake().emit('message', { not: 'a message' });
    await channel.idle();
    await bot.settle();
    expect(fake().to(group)).toEqual([]);
    expect(fake().to('33611111111@c.us')).toEqual([]);
    expect(fake().to('status@broadcast')).toEqual([]);
    expect(
      await bot.db.InboundMessage.countDocuments({
        'activity.address.chatId': { $in: [group, '33611111111@c.us', 'status@broadcast'] },
      }),
    ).toBe(0);
  });

  it('delivers replies later, in order, when WhatsApp Web fails to send twice', async () => {
    const reference = '33688888888@c.us';
    const expected = await text(reference, 'bonjour'); // what an unbroken send looks like
    const chat = '33677777777@c.us';
    const attemptsBefore = fake().attempts;
    fake().failNext(2);
    fake().emit('message', wwebMessage(chat, 'bonjour'));
    await channel.idle();
    await vi.waitFor(() => expect(fake().to(chat)).toHaveLength(expected.length), { timeout: 10_000 });
    expect(fake().to(chat)).toEqual(expected);
    expect(fake().attempts - attemptsBefore).toBe(expected.length + 2);
  });

  it('starts a new client after a disconnection, and asks for a new QR only if the session is gone', async () => {
    const before = clients.length;
    fake().emit('disconnected', 'NAVIGATION');
    expect(channel.status()).toBe('disconnected');
    await vi.waitFor(() => expect(clients.length).toBe(before + 1));
    expect(clients[before - 1]?.destroyed).toBe(true);
    await vi.waitFor(() => expect(channel.status()).toBe('qr'));
    fake().scan();
    expect(await text('33612345678@c.us', 'bonjour')).not.toEqual([]);
  });
});
