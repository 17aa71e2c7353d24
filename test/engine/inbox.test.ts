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

describe('inbox, a message for a conversation idle here (claimed as it is stored)', () => {
  const order: string[] = [];
  let other: Inbox;

  beforeAll(() => {
    other = new Inbox(
      t.db,
      pino({ level: 'silent' }),
      async (activity) => {
        order.push(activity.platformMessageId);
      },
      { pollMs: 30, staleMs: 0 },
    );
  });
  afterAll(() => other.stop());

  it('waits while another instance holds the conversation, then is handled once, by the poller', async () => {
    await t.db.Lease.create({
      key: 'inbox:test:held',
      owner: 'another-instance',
      until: new Date(Date.now() + 60_000),
    });
    expect(await other.accept(message('h1', 'held'))).toMatchObject({ status: 'accepted' });
    await other.idle();
    expect(order).not.toContain('h1');
    // Given back, not left claimed by an instance that could not run it.
    expect(await t.db.InboundMessage.findOne({ platformMessageId: 'h1' }).lean()).toMatchObject({
      status: 'received',
    });
    await t.db.Lease.deleteOne({ key: 'inbox:test:held' });
    await other.recover();
    for (let i = 0; i < 100 && !order.includes('h1'); i++) await new Promise((r) => setTimeout(r, 20));
    await other.idle();
    expect(order.filter((id) => id === 'h1')).toHaveLength(1);
    expect(await t.db.InboundMessage.findOne({ platformMessageId: 'h1' }).lean()).toMatchObject({
      status: 'done',
    });
  });

  it("lets older unfinished messages of the conversation (a crashed instance's) go first", async () => {
    const older = message('o1', 'behind');
    const at = new Date(Date.now() - 60_000);
    await t.db.InboundMessage.collection.insertOne({
      channel: 'test',
      platformMessageId: 'o1',
      conversationKey: 'test:behind',
      activity: older,
      status: 'received',
      attempts: 0,
      createdAt: at,
      updatedAt: at,
    });
    await other.accept(message('o2', 'behind'));
    await other.idle();
    expect(order.filter((id) => id.startsWith('o'))).toEqual(['o1', 'o2']);
  });
});
