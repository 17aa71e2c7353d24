import { describe, expect, it } from 'vitest';
import { parseWwebMessage, SendPacer, WwebSender } from '../../src/channels/whatsapp-web/index.js';
import type { Address } from '../../src/engine/activity.js';
import type { ChannelSender } from '../../src/engine/outbox.js';
import { AppError } from '../../src/errors.js';
import { FakeWwebClient, wwebMessage } from '../fakes/wweb.js';

const chat = '33612345678@c.us';
const address: Address = { channel: 'whatsapp-web', userId: chat, chatId: chat };

function senderWith(client: FakeWwebClient | undefined): ChannelSender {
  return new WwebSender(() => client, new SendPacer({ perChatMs: 0, globalGapMs: 0 }), 1234);
}

describe('WhatsApp Web renderer', () => {
  it('sends every kind of reply as text a citizen can act on', async () => {
    const client = new FakeWwebClient();
    const sender = senderWith(client);
    await sender.send(
      address,
      {
        kind: 'choices',
        text: 'Catégorie ?',
        choices: [
          { value: 'roads', label: 'Voirie' },
          { value: 'lights', label: 'Éclairage' },
        ],
      },
      'k1',
    );
    await sender.send(
      address,
      { kind: 'link', text: 'Passeport', url: 'https://example.org/p', label: 'Voir' },
      'k2',
    );
    await sender.send(
      address,
      { kind: 'location_request', text: 'Où est-ce ?', button: 'Envoyer ma position' },
      'k3',
    );
    const sent = await sender.send(
      address,
      { kind: 'media', url: 'https://example.org/map.png', caption: 'Plan' },
      'k4',
    );
    expect(client.to(chat)).toEqual([
      'Catégorie ?\n1. Voirie\n2. Éclairage',
      'Passeport\nhttps://example.org/p',
      'Où est-ce ?',
      'Plan\nhttps://example.org/map.png',
    ]);
    expect(client.sent[1]?.options).toEqual({ linkPreview: true });
    expect(sent.platformMessageId).toMatch(/^true_33612345678@c\.us_/);
  });

  it('turns a failed send into CHANNEL_SEND_FAILED so the outbox retries, and waits while logged out', async () => {
    const client = new FakeWwebClient();
    client.failNext(1);
    const failure = await senderWith(client)
      .send(address, { kind: 'text', text: 'Bonjour' }, 'k')
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AppError);
    expect(failure).toMatchObject({ code: 'CHANNEL_SEND_FAILED' });

    const loggedOut = await senderWith(undefined)
      .send(address, { kind: 'text', text: 'Bonjour' }, 'k')
      .catch((e: unknown) => e);
    expect(loggedOut).toMatchObject({ code: 'CHANNEL_SEND_FAILED', retryAfterMs: 1234 });
  });
});

describe('send pacing', () => {
  it('keeps one message a second per chat and ten a second overall', () => {
    let now = 1_000_000;
    const pacer = new SendPacer({}, () => now);
    expect(pacer.reserve('a')).toBe(0);
    expect(pacer.reserve('a')).toBe(1000); // same chat: a second later
    expect(pacer.reserve('b')).toBe(100); // another chat is not held up by a's wait, only the overall gap
    const waits = Array.from({ length: 10 }, (_, i) => pacer.reserve(`c${i}`));
    // Ten more chats fill the 100 ms slots around a's second message (at 1000 ms).
    expect(waits).toEqual([200, 300, 400, 500, 600, 700, 800, 900, 1100, 1200]);
    now += 5000;
    expect(pacer.reserve('a')).toBe(0);
  });
});

describe('incoming message parsing', () => {
  it('reads text, the sender, the name and the time', () => {
    const parsed = parseWwebMessage(wwebMessage(chat, '  Bonjour  ', { timestamp: 1_700_000_000 }));
    expect(parsed).toEqual({
      activity: {
        address,
        platformMessageId: expect.stringMatching(/^false_33612345678@c\.us_/),
        at: new Date(1_700_000_000_000),
        userName: 'Camille',
        text: 'Bonjour',
      },
    });
  });

  it('takes a location pin without its thumbnail, and media as a file id with its type', () => {
    const pin = parseWwebMessage(
      wwebMessage(chat, '/9j/4AAQ', { type: 'location', location: { latitude: '45.5', longitude: '-73.6' } }),
    );
    expect(pin).toMatchObject({ activity: { location: { lat: 45.5, lng: -73.6 } } });
    expect('activity' in pin && pin.activity.text).toBeFalsy();

    const voice = wwebMessage(chat, '', { type: 'ptt', hasMedia: true, _data: {} });
    expect(parseWwebMessage(voice)).toMatchObject({
      activity: {
        attachments: [
          { contentType: 'audio/ogg', fileId: (voice.id as { _serialized: string })._serialized },
        ],
      },
    });
  });

  it('says why it ignores groups, status updates, own messages and empty notifications', () => {
    expect(parseWwebMessage(wwebMessage('1203630@g.us', 'salut'))).toEqual({ ignored: 'group_or_broadcast' });
    expect(parseWwebMessage(wwebMessage('status@broadcast', 'story', { isStatus: true }))).toEqual({
      ignored: 'status',
    });
    expect(parseWwebMessage(wwebMessage(chat, 'moi', { fromMe: true }))).toEqual({ ignored: 'own' });
    expect(parseWwebMessage(wwebMessage(chat, '', { type: 'e2e_notification' }))).toEqual({
      ignored: 'empty',
    });
    expect(() => parseWwebMessage({ body: 'no id' })).toThrow();
  });
});
