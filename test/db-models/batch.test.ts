import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leasedEach } from '../../src/db/batch.js';
import { leaseFree } from '../../src/db/models/common.js';
import { openTestDb, type TestDb } from '../cases/support.js';

let t: TestDb;
beforeAll(async () => {
  t = await openTestDb();
});
afterAll(async () => t.stop());

describe('leasedEach (claiming many documents with one bulk update)', () => {
  it('takes the free ones and says which, leaving one another instance holds', async () => {
    const now = new Date();
    const ids = [new Types.ObjectId(), new Types.ObjectId(), new Types.ObjectId()];
    const held = { owner: 'other', until: new Date(now.getTime() + 60_000) };
    await t.db.InboundMessage.create(
      ids.map((_id, i) => ({
        _id,
        channel: 'test',
        platformMessageId: `lease-${i}`,
        activity: {},
        status: i === 1 ? ('processing' as const) : ('received' as const),
        ...(i === 1 ? { lease: held } : {}),
      })),
    );
    const lease = { owner: 'me', until: new Date(now.getTime() + 30_000) };
    const got = await leasedEach(
      ids,
      lease,
      () =>
        t.db.InboundMessage.collection.bulkWrite(
          ids.map((_id) => ({
            updateOne: { filter: { _id, ...leaseFree(now) }, update: { $set: { lease } } },
          })),
          { ordered: false },
        ),
      () => t.db.InboundMessage.find({ _id: { $in: ids } }, { lease: 1 }).lean(),
    );
    expect([...got].sort()).toEqual([String(ids[0]), String(ids[2])].sort());
    const stored = await t.db.InboundMessage.findById(ids[1]).lean();
    expect(stored?.lease?.owner).toBe('other');
    expect(
      await leasedEach(
        [],
        lease,
        () => Promise.reject(new Error('no write')),
        async () => [],
      ),
    ).toEqual(new Set());
  });
});
