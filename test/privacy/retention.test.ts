import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/connection.js';
import type { Case } from '../../src/db/models/index.js';
import { verifyAuditChain } from '../../src/privacy/audit-chain.js';
import {
  parseRetentionByCategory,
  RETENTION_SWEEPER_LEASE,
  retentionPolicy,
  retentionSweep,
  startRetentionSweeper,
} from '../../src/privacy/retention.js';
import { startTestMongo, type TestMongo } from '../helpers/mongo.js';

let mongo: TestMongo;
let db: Db;
beforeAll(async () => {
  mongo = await startTestMongo();
  db = await openDatabase(mongo.uri);
});
afterAll(async () => {
  await db?.close();
  await mongo?.stop();
});

// Real time: the embedded server's TTL monitor deletes messages whose expireAt has passed.
const NOW = new Date();
const daysAgo = (d: number): Date => new Date(NOW.getTime() - d * 86_400_000);
let counter = 0;

async function citizen(userId: string, lastSeenDaysAgo: number): Promise<Types.ObjectId> {
  const created = await db.Citizen.create({
    channel: 'telegram',
    channelUserId: userId,
    address: { channel: 'telegram', userId, chatId: userId },
    lang: 'en',
    displayName: `Name of ${userId}`,
    lastSeenAt: daysAgo(lastSeenDaysAgo),
  });
  return created._id;
}

async function seedCase(
  who: Types.ObjectId,
  category: string,
  status: Case['status'],
  doneDaysAgo: number | null,
  secret: string,
): Promise<string> {
  counter += 1;
  const reference = `C-${'ABCDEFGHJK'[Math.floor(counter / 10)] ?? 'Z'}${'ABCDEFGHJK'[counter % 10] ?? 'Z'}2345`;
  const done = doneDaysAgo === null ? undefined : daysAgo(doneDaysAgo);
  await db.Case.create({
    reference,
    kind: category === 'suggestion' ? 'suggestion' : 'complaint',
    category,
    department: 'public_works',
    status,
    slaDueAt: daysAgo(1000),
    citizen: who,
    channel: 'telegram',
    lang: 'en',
    fields: { description: `${secret} description`, location: { text: `${secret} street` }, photos: [] },
    transcript: [{ from: 'citizen', text: `${secret} says hi`, at: daysAgo(1000) }],
    notes: [{ officialId: 'x', text: `${secret} noted`, at: daysAgo(1000) }],
    rating: 4,
    ...(status === 'resolved' ? { resolvedAt: done, resolutionNote: `${secret} fixed` } : {}),
    ...(status === 'closed' ? { resolvedAt: done, closedAt: done } : {}),
  });
  return reference;
}

describe('retention config', () => {
  it('parses per-category retention and rejects what is not category=days', () => {
    expect(parseRetentionByCategory('corruption=730, suggestion=90')).toEqual({
      corruption: 730,
      suggestion: 90,
    });
    expect(parseRetentionByCategory('')).toEqual({});
    expect(() => parseRetentionByCategory('corruption:730')).toThrow(/category=days/);
    expect(() => parseRetentionByCategory('roads=0')).toThrow(/category=days/);
    expect(
      retentionPolicy({
        RETENTION_DAYS: 365,
        RETENTION_DAYS_BY_CATEGORY: 'roads=30',
        MESSAGE_RETENTION_DAYS: 30,
      }),
    ).toEqual({ days: 365, byCategory: { roads: 30 }, messageDays: 30 });
  });
});

describe('retentionSweep', () => {
  it('erases personal data of cases closed longer ago than their category allows, and nothing else', async () => {
    const gone = await citizen('111111111', 400);
    const active = await citizen('222222222', 400);
    const recent = await citizen('333333333', 5);
    const oldRoads = await seedCase(gone, 'roads', 'closed', 400, 'Fenwick');
    const oldSuggestion = await seedCase(recent, 'suggestion', 'resolved', 100, 'Pomfrey');
    const oldCorruption = await seedCase(recent, 'corruption', 'closed', 400, 'Gilderoy');
    const freshRoads = await seedCase(recent, 'roads', 'resolved', 10, 'Hagrid');
    const liveRoads = await seedCase(active, 'roads', 'open', null, 'Trelawney');

    await db.InboundMessage.create([
      { channel: 'telegram', platformMessageId: 'a', activity: {}, status: 'done' },
      { channel: 'telegram', platformMessageId: 'b', activity: {}, status: 'failed' },
    ]);
    await db.OutboundMessage.create({
      channel: 'telegram',
      conversationKey: 'telegram:444',
      address: { chatId: '444' },
      reply: { kind: 'text', text: 'hi' },
      status: 'sent',
      idempotencyKey: 'k1',
      seq: 1,
    });
    await db.StateItem.create([
      { _id: 'telegram/conversations/old/', eTag: '1', json: '{}', updatedAt: daysAgo(400) },
      { _id: 'telegram/conversations/new/', eTag: '1', json: '{}', updatedAt: daysAgo(1) },
    ]);

    const policy = { days: 365, byCategory: { corruption: 730, suggestion: 90 }, messageDays: 30 };
    const report = await retentionSweep(db, policy, NOW);
    expect(report).toEqual({ cases: 2, citizens: 1, messagesScheduled: 2, stateItems: 1 });

    const byRef = async (reference: string) => db.Case.findOne({ reference }).lean();
    for (const reference of [oldRoads, oldSuggestion]) {
      const erased = await byRef(reference);
      expect(erased?.transcript).toEqual([]);
      expect(erased?.notes).toEqual([]);
      expect(erased?.fields.description).toBeUndefined();
      expect(erased?.resolutionNote).toBeUndefined();
      expect(erased?.citizen).toBeUndefined();
      // The anonymous facts stay.
      expect(erased?.rating).toBe(4);
      expect(erased?.resolvedAt).toBeInstanceOf(Date);
    }
    for (const reference of [oldCorruption, freshRoads, liveRoads]) {
      expect((await byRef(reference))?.fields.description).toMatch(/description$/);
    }
    // The idle citizen with nothing live is erased; one with a live case and a recent one are kept.
    expect((await db.Citizen.findById(gone).lean())?.erasedAt).toBeInstanceOf(Date);
    expect((await db.Citizen.findById(gone).lean())?.channelUserId).not.toBe('111111111');
    expect((await db.Citizen.findById(active).lean())?.channelUserId).toBe('222222222');
    expect((await db.Citizen.findById(recent).lean())?.channelUserId).toBe('333333333');

    const expiry = new Date(NOW.getTime() + 30 * 86_400_000);
    expect((await db.InboundMessage.findOne({ platformMessageId: 'a' }).lean())?.expireAt).toEqual(expiry);
    expect((await db.InboundMessage.findOne({ platformMessageId: 'b' }).lean())?.expireAt).toBeUndefined();
    expect((await db.OutboundMessage.findOne({ idempotencyKey: 'k1' }).lean())?.expireAt).toEqual(expiry);
    expect(await db.StateItem.countDocuments({ _id: 'telegram/conversations/old/' })).toBe(0);
    expect(await db.StateItem.countDocuments({ _id: 'telegram/conversations/new/' })).toBe(1);

    // Every retention erasure is in the audit log, by the system, and the chain holds.
    expect(await db.AuditEvent.countDocuments({ action: 'erased', 'actor.kind': 'system' })).toBe(3);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });

    // A second sweep finds nothing left to do.
    expect(await retentionSweep(db, policy, NOW)).toEqual({
      cases: 0,
      citizens: 0,
      messagesScheduled: 0,
      stateItems: 0,
    });
  });

  it('is run by one instance at a time, under a lease', async () => {
    const sweeps: string[] = [];
    const policy = { days: 365, byCategory: {}, messageDays: 30 };
    await db.InboundMessage.create({
      channel: 'telegram',
      platformMessageId: 'c',
      activity: {},
      status: 'done',
    });
    const first = startRetentionSweeper(db, {
      owner: 'instance-a',
      policy,
      intervalMs: 3_600_000,
      clock: () => NOW,
      onSweep: () => sweeps.push('a'),
    });
    // stop() waits for the first tick; the lease is then released, so take it again to hold it.
    await first.stop();
    expect(sweeps).toEqual(['a']);
    const holder = startRetentionSweeper(db, {
      owner: 'instance-a',
      policy,
      intervalMs: 3_600_000,
      clock: () => NOW,
    });
    await db.InboundMessage.create({
      channel: 'telegram',
      platformMessageId: 'd',
      activity: {},
      status: 'done',
    });
    const second = startRetentionSweeper(db, {
      owner: 'instance-b',
      policy,
      intervalMs: 3_600_000,
      clock: () => NOW,
      onSweep: () => sweeps.push('b'),
    });
    await second.stop();
    expect(sweeps).toEqual(['a']);
    expect((await db.Lease.findOne({ key: RETENTION_SWEEPER_LEASE }).lean())?.owner).toBe('instance-a');
    await holder.stop();
    expect(await db.Lease.countDocuments({ key: RETENTION_SWEEPER_LEASE })).toBe(0);
  });
});
