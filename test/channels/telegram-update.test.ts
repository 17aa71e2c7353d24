import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTelegramUpdate } from '../../src/channels/telegram/update.js';
import { activitySchema } from '../../src/engine/activity.js';

const chat = { id: -100123, type: 'group' };
const from = { id: 42, is_bot: false, first_name: 'Amina' };
const msg = (fields: Record<string, unknown>) => ({
  update_id: 9,
  message: { message_id: 3, date: 1_700_000_000, chat, from, ...fields },
});

describe('parseTelegramUpdate', () => {
  it('turns a text message into an activity addressed to the user and chat, keyed by update id', () => {
    const parsed = parseTelegramUpdate(msg({ text: 'le lampadaire est cassé' }));
    expect(parsed).toMatchObject({
      ok: true,
      activity: {
        address: { channel: 'telegram', userId: '42', chatId: '-100123' },
        platformMessageId: 'u9',
        text: 'le lampadaire est cassé',
        userName: 'Amina',
        at: new Date(1_700_000_000_000),
      },
    });
  });

  it.each(['/start', '/start ref-abc', '/start@civic_bot'])('takes %s as the start event', (text) => {
    const parsed = parseTelegramUpdate(msg({ text }));
    expect(parsed).toMatchObject({ ok: true, activity: { start: true } });
    expect(parsed.ok && parsed.activity.text).toBeFalsy();
  });

  it('keeps other commands as text (/started is not /start)', () => {
    expect(parseTelegramUpdate(msg({ text: '/started' }))).toMatchObject({
      ok: true,
      activity: { text: '/started' },
    });
  });

  it('reads a tap as the choice value and remembers the callback query to answer', () => {
    const parsed = parseTelegramUpdate({
      update_id: 10,
      callback_query: {
        id: 'cbq-1',
        from,
        chat_instance: 'x',
        message: { message_id: 1, date: 0, chat },
        data: 'lighting',
      },
    });
    expect(parsed).toMatchObject({
      ok: true,
      callbackQueryId: 'cbq-1',
      activity: {
        choice: 'lighting',
        platformMessageId: 'u10',
        address: { userId: '42', chatId: '-100123' },
      },
    });
  });

  it('reads a shared location', () => {
    expect(parseTelegramUpdate(msg({ location: { latitude: 36.8, longitude: 10.18 } }))).toMatchObject({
      ok: true,
      activity: { location: { lat: 36.8, lng: 10.18 } },
    });
  });

  it('keeps only the largest size of a photo, as a JPEG file id, with its caption as text', () => {
    const parsed = parseTelegramUpdate(
      msg({
        photo: [
          { file_id: 'small', file_unique_id: 'a', width: 90, height: 60 },
          { file_id: 'large', file_unique_id: 'c', width: 1280, height: 853 },
          { file_id: 'medium', file_unique_id: 'b', width: 320, height: 213 },
        ],
        caption: 'le trou',
      }),
    );
    expect(parsed).toMatchObject({
      ok: true,
      activity: { attachments: [{ contentType: 'image/jpeg', fileId: 'large' }], text: 'le trou' },
    });
  });

  it('ignores update kinds and messages it does not handle, saying which', () => {
    expect(parseTelegramUpdate({ update_id: 1, edited_message: { message_id: 1 } })).toMatchObject({
      ok: false,
      reason: 'ignored',
      updateId: 1,
    });
    expect(parseTelegramUpdate(msg({ sticker: { file_id: 's' } }))).toMatchObject({
      ok: false,
      reason: 'ignored',
    });
    expect(
      parseTelegramUpdate({ update_id: 2, callback_query: { id: 'q', from, chat_instance: 'x' } }),
    ).toMatchObject({ ok: false, reason: 'ignored', callbackQueryId: 'q' });
  });

  it('rejects malformed payloads and out-of-range values as invalid', () => {
    expect(parseTelegramUpdate(null)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(parseTelegramUpdate({ update_id: 'x' })).toMatchObject({ ok: false, reason: 'invalid' });
    expect(parseTelegramUpdate(msg({ location: { latitude: 123, longitude: 0 } }))).toMatchObject({
      ok: false,
      reason: 'invalid',
      updateId: 9,
    });
    expect(parseTelegramUpdate(msg({ text: 'x'.repeat(5000) }))).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
  });

  it('never throws on arbitrary JSON: an activity the engine accepts, or a typed rejection', () => {
    const updateLike = fc.record(
      {
        update_id: fc.oneof(fc.nat(), fc.integer(), fc.string()),
        message: fc.record(
          {
            message_id: fc.integer(),
            date: fc.oneof(fc.nat(), fc.double()),
            chat: fc.record({ id: fc.oneof(fc.integer(), fc.string()) }),
            from: fc.record({ id: fc.integer(), first_name: fc.string() }, { requiredKeys: ['id'] }),
            text: fc.string({ maxLength: 50 }),
            location: fc.record({ latitude: fc.double(), longitude: fc.double() }),
            photo: fc.array(fc.record({ file_id: fc.string(), width: fc.integer(), height: fc.integer() })),
          },
          { requiredKeys: [] },
        ),
        callback_query: fc.record(
          { id: fc.string(), from: fc.record({ id: fc.integer() }), data: fc.string() },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), updateLike), (raw) => {
        const parsed = parseTelegramUpdate(raw);
        if (parsed.ok) {
          expect(activitySchema.safeParse(parsed.activity).success).toBe(true);
          expect(parsed.activity.platformMessageId).toMatch(/^u\d+$/);
        } else {
          expect(['invalid', 'ignored']).toContain(parsed.reason);
          expect(typeof parsed.detail).toBe('string');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
