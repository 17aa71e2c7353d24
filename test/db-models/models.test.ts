import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDefaults } from '../../src/db/connection.js';
import { DEFAULT_CATEGORY_ROUTES, DEFAULT_DEPARTMENTS, nextSequence } from '../../src/db/models/index.js';
import { openTestDb, type TestDb } from '../cases/support.js';

let t: TestDb;

beforeAll(async () => {
  t = await openTestDb();
});
afterAll(async () => t.stop());

function duplicateKeyCode(err: unknown): unknown {
  return typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
}

describe('connectDatabase', () => {
  it('builds every declared index before returning', async () => {
    for (const model of Object.values(t.db).filter((v) => typeof v === 'function' && 'schema' in v)) {
      const declared = model.schema.indexes().length;
      const built = await model.collection.listIndexes().toArray();
      // +1: the _id index every collection has.
      expect(built.length, model.modelName).toBe(declared + 1);
    }
  });

  it('seeds the default departments and routes once, leaving an admin’s edits alone', async () => {
    await t.db.Department.updateOne({ key: 'utilities' }, { $set: { slaHours: 12 } });
    await seedDefaults(t.db);
    expect(await t.db.Department.countDocuments()).toBe(DEFAULT_DEPARTMENTS.length);
    expect(await t.db.CategoryRoute.countDocuments()).toBe(Object.keys(DEFAULT_CATEGORY_ROUTES).length);
    expect((await t.db.Department.findOne({ key: 'utilities' }).lean())?.slaHours).toBe(12);
    expect((await t.db.CategoryRoute.findOne({ category: 'corruption' }).lean())?.department).toBe(
      'integrity',
    );
  });
});

describe('InboundMessage', () => {
  it('refuses a second delivery of the same platform message with E11000', async () => {
    const msg = { channel: 'telegram', platformMessageId: '1001', activity: { type: 'message', text: 'hi' } };
    await t.db.InboundMessage.create(msg);
    const err = await t.db.InboundMessage.create({
      ...msg,
      activity: { type: 'message', text: 'hi again' },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(duplicateKeyCode(err)).toBe(11000);
    expect(await t.db.InboundMessage.countDocuments({ channel: 'telegram', platformMessageId: '1001' })).toBe(
      1,
    );
  });

  it('accepts the same message id on another channel', async () => {
    await t.db.InboundMessage.create({ channel: 'whatsapp', platformMessageId: '1001', activity: {} });
    const stored = await t.db.InboundMessage.findOne({ channel: 'whatsapp' }).lean();
    expect(stored?.status).toBe('received');
    expect(stored?.attempts).toBe(0);
    expect(stored?.activity).toEqual({});
  });
});

describe('Citizen', () => {
  it('is unique per channel identity', async () => {
    await t.db.Citizen.create({ channel: 'telegram', channelUserId: '77', lang: 'fr' });
    const err = await t.db.Citizen.create({ channel: 'telegram', channelUserId: '77', lang: 'en' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(duplicateKeyCode(err)).toBe(11000);
    const other = await t.db.Citizen.create({ channel: 'web', channelUserId: '77', lang: 'ar' });
    expect(other.contactConsent).toBe(false);
  });

  it('only takes a content language', async () => {
    // As the engine would if a detector ever returned something outside the pack: refused at save.
    const citizen = new t.db.Citizen({ channel: 'web', channelUserId: 'x', lang: 'en' });
    citizen.set('lang', 'de');
    await expect(citizen.save()).rejects.toThrow(/lang/);
    expect(await t.db.Citizen.countDocuments({ channelUserId: 'x' })).toBe(0);
  });
});

describe('Official', () => {
  it('stores the email lowercased, so logins and uniqueness ignore case', async () => {
    await t.db.Official.create({ email: ' Amina@City.GOV ', name: 'Amina', passwordHash: 'scrypt$x' });
    expect((await t.db.Official.findOne({ email: 'amina@city.gov' }).lean())?.role).toBe('agent');
    const err = await t.db.Official.create({ email: 'AMINA@city.gov', name: 'B', passwordHash: 'h' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(duplicateKeyCode(err)).toBe(11000);
  });
});

describe('OutboundMessage', () => {
  it('refuses a second message with the same idempotency key', async () => {
    const base = {
      channel: 'telegram',
      conversationKey: 'telegram:9',
      address: { chatId: 9 },
      reply: { kind: 'text' },
    };
    await t.db.OutboundMessage.create({ ...base, idempotencyKey: 'turn-1:0', seq: 1 });
    const err = await t.db.OutboundMessage.create({ ...base, idempotencyKey: 'turn-1:0', seq: 2 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(duplicateKeyCode(err)).toBe(11000);
  });

  it('draws per-conversation sequence numbers without gaps or repeats under concurrency', async () => {
    const seqs = await Promise.all(
      Array.from({ length: 50 }, () => nextSequence(t.db.Sequence, 'outbox:c1')),
    );
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await nextSequence(t.db.Sequence, 'outbox:c2')).toBe(1);
  });
});

describe('AuditEvent', () => {
  it('is append-only through the model', async () => {
    const event = {
      seq: 1,
      actor: { kind: 'official' as const, id: 'o1' },
      action: 'case.claimed',
      caseReference: 'C-7K4P9Q',
      at: new Date(),
      prevHash: '0',
      hash: 'h1',
    };
    await t.db.AuditEvent.create(event);
    await expect(t.db.AuditEvent.updateOne({ seq: 1 }, { $set: { action: 'x' } })).rejects.toThrow(
      /append-only/,
    );
    await expect(t.db.AuditEvent.deleteMany({})).rejects.toThrow(/append-only/);
    const dup = await t.db.AuditEvent.create({ ...event, hash: 'h2' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(duplicateKeyCode(dup)).toBe(11000);
    expect((await t.db.AuditEvent.findOne({ seq: 1 }).lean())?.action).toBe('case.claimed');
  });
});
