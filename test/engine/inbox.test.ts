import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activity } from '../../src/engine/activity.js';
import { Inbox } from '../../src/engine/inbox.js';
import { openTestDb, type TestDb } from '../cases/support.js';

let t: TestDb;
const handled: string[] = [];
let inbox: Inbox;

beforeAll(async () => {
  t = await openTestDb();
  inbox = new Inbox(t.db, pino({ level: 'silent' }), async (activity) => {
    handled.push(activity.platformMessageId);
  });
});
afterAll(async () => {
  inbox.stop();
  await t.stop();
});

const message = (id: string, chat = 'c1'): Activity => ({
  address: { channel: 'test', userId: chat, chatId: chat },
  platformMessageId: id,
  at: new Date(),
  text: `message ${id}`,
});

describe('inbox, webhooks arriving together (stored with one command)', () => {
  it('stores and handles an update delivered three times at once exactly once, and says which were duplicates', async () => {
    const results = await Promise.all([
      inbox.accept(message('m1')),
      inbox.accept(message('m1')),
      inbox.accept(message('m2', 'c2')),
      inbox.accept(message('m1')),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['accepted', 'accepted', 'duplicate', 'duplicate']);
    await inbox.idle();
    expect(handled.filter((id) => id === 'm1')).toHaveLength(1);
    expect(handled.filter((id) => id === 'm2')).toHaveLength(1);
    const stored = await t.db.InboundMessage.find({ platformMessageId: { $in: ['m1', 'm2'] } }).lean();
    expect(stored).toHaveLength(2);
    for (const doc of stored) {
      expect(doc).toMatchObject({ status: 'done', attempts: 1 });
      expect(doc.createdAt).toBeInstanceOf(Date);
    }
  });

  it('refuses a message the schema rejects on its own: the others of the same moment are kept and answered', async () => {
    const results = await Promise.allSettled([
      inbox.accept(message('m3', 'c3')),
      inbox.accept(message('', 'c4')),
      inbox.accept(message('m5', 'c5')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await inbox.idle();
    expect(handled).toEqual(expect.arrayContaining(['m3', 'm5']));
    expect(await t.db.InboundMessage.countDocuments({ 'activity.address.chatId': 'c4' })).toBe(0);
  });
});
