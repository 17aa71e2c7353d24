import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connection.js';
import { claimNext, REFERENCE_ALPHABET } from '../../src/cases/index.js';
import { openTestDb, type TestDb } from './support.js';

const CASES = 2000;
const CLAIMERS = 20;

let t: TestDb;
let claimers: Db[];

beforeAll(async () => {
  t = await openTestDb();
  claimers = await Promise.all(Array.from({ length: CLAIMERS }, () => t.another()));
});
afterAll(async () => t.stop());

/** A valid, unique reference per index: `i` written in base 31 with the reference alphabet. */
function referenceFor(i: number): string {
  let digits = '';
  for (let n = i, k = 0; k < 6; k++, n = Math.floor(n / REFERENCE_ALPHABET.length)) {
    digits = REFERENCE_ALPHABET[n % REFERENCE_ALPHABET.length] + digits;
  }
  return `C-${digits}`;
}

describe('claimNext under contention', () => {
  it(`${CLAIMERS} separate connections claiming from ${CASES} queued cases claim each exactly once`, async () => {
    const created = new Date('2026-03-02T09:00:00Z').getTime();
    const docs = Array.from({ length: CASES }, (_, i) => ({
      reference: referenceFor(i),
      kind: 'complaint',
      category: 'roads',
      department: 'public_works',
      status: 'open',
      priority: i % 3,
      slaDueAt: new Date(created + 72 * 3_600_000),
      channel: 'telegram',
      lang: 'en',
      createdAt: new Date(created + i),
    }));
    expect(new Set(docs.map((d) => d.reference)).size).toBe(CASES);
    await t.db.Case.insertMany(docs, { timestamps: false });

    const claimedBy = await Promise.all(
      claimers.map(async (db, i) => {
        const mine: string[] = [];
        for (let c = await claimNext(db, 'public_works', `official-${i}`); c !== null;) {
          expect(c.assignee).toBe(`official-${i}`);
          mine.push(c.reference);
          c = await claimNext(db, 'public_works', `official-${i}`);
        }
        return mine;
      }),
    );

    const all = claimedBy.flat();
    expect(all).toHaveLength(CASES);
    expect(new Set(all).size).toBe(CASES);
    // Every claimer got work: the claims were really concurrent, not one connection draining the queue.
    expect(claimedBy.filter((mine) => mine.length > 0).length).toBeGreaterThan(CLAIMERS / 2);
    expect(await t.db.Case.countDocuments({ status: 'open' })).toBe(0);
    const stored = await t.db.Case.find({}, { reference: 1, assignee: 1, history: 1 }).lean();
    for (const c of stored) {
      expect(c.history.filter((h) => h.action === 'claim')).toHaveLength(1);
      expect(claimedBy[Number(c.assignee?.split('-')[1])]).toContain(c.reference);
    }
  }, 300_000);
});
