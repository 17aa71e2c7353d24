import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from '../../src/engine/activity.js';
import { Citizens } from '../../src/engine/citizens.js';
import { openTestDb, type TestDb } from '../cases/support.js';

let t: TestDb;
let citizens: Citizens;

beforeAll(async () => {
  t = await openTestDb();
  citizens = new Citizens(t.db);
});
afterAll(async () => t.stop());

const address = (channel: 'telegram' | 'messenger', user: string): Address => ({
  channel,
  userId: user,
  chatId: user,
});

describe('citizen records, noted at every message (many turns at once share one write)', () => {
  it('creates each new citizen once, gives every turn its own citizen id, and updates them later', async () => {
    const first = new Date('2026-05-01T10:00:00Z');
    const sightings = [
      address('telegram', 'u1'),
      address('telegram', 'u2'),
      address('messenger', 'u1'),
      address('telegram', 'u1'),
    ].map((a) => citizens.seen({ address: a, at: first, now: first }));
    const seen = await Promise.all(sightings);
    // The language is recorded at the end of a turn, for many citizens with one command.
    await Promise.all(seen.map((id) => citizens.speaks(id, 'fr')));
    const ids = seen.map(String);
    expect(ids[0]).toBe(ids[3]);
    expect(new Set(ids).size).toBe(3);
    const stored = await t.db.Citizen.find({}).lean();
    expect(stored).toHaveLength(3);
    for (const c of stored) {
      expect(ids).toContain(String(c._id));
      expect(c).toMatchObject({ lang: 'fr', contactConsent: false, lastInboundAt: first, lastSeenAt: first });
      expect(c.createdAt).toBeInstanceOf(Date);
    }

    const later = new Date('2026-05-02T10:00:00Z');
    const again = await citizens.seen({
      address: address('telegram', 'u2'),
      at: later,
      now: later,
    });
    await citizens.speaks(again, 'ar');
    expect(String(again)).toBe(ids[1]);
    const u2 = await t.db.Citizen.findById(again).lean();
    expect(u2).toMatchObject({ lang: 'ar', lastSeenAt: later, lastInboundAt: later });
    expect(await t.db.Citizen.countDocuments({})).toBe(3);
  });
});
