import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  acquireLease,
  acquireLeases,
  claimCase,
  claimNext,
  createCase,
  releaseLease,
  slaSweep,
  startSlaSweeper,
  awaitCitizen,
  OVERDUE_PRIORITY_BUMP,
  type OverdueCase,
} from '../../src/cases/index.js';
import { openTestDb, type TestDb } from './support.js';

let t: TestDb;
const HOUR = 3_600_000;
const t0 = new Date('2026-03-02T09:00:00Z');
const later = (hours: number) => new Date(t0.getTime() + hours * HOUR);

beforeAll(async () => {
  t = await openTestDb();
  await t.db.Official.create([
    {
      email: 'sup@city.gov',
      name: 'Sup',
      passwordHash: 'h',
      role: 'supervisor',
      departments: ['public_works'],
    },
    {
      email: 'agent@city.gov',
      name: 'Agent',
      passwordHash: 'h',
      role: 'agent',
      departments: ['public_works'],
    },
    {
      email: 'util@city.gov',
      name: 'Util',
      passwordHash: 'h',
      role: 'supervisor',
      departments: ['utilities'],
    },
  ]);
});
afterAll(async () => t.stop());
beforeEach(async () => {
  await t.db.Case.deleteMany({});
  await t.db.Lease.deleteMany({});
});

const roads = (now: Date) =>
  createCase(t.db, { kind: 'complaint', category: 'roads', channel: 'web', lang: 'es', now });

describe('slaSweep', () => {
  it('marks cases past their SLA overdue once, raises their priority, and names the supervisors', async () => {
    const late = await roads(t0); // public_works: due after 72 h
    const fresh = await roads(later(60));
    const sup = await t.db.Official.findOne({ email: 'sup@city.gov' }).lean();

    expect(await slaSweep(t.db, later(71))).toEqual([]);
    const swept = await slaSweep(t.db, later(73));
    expect(swept.map((c) => c.reference)).toEqual([late.reference]);
    expect(swept[0]?.priority).toBe(OVERDUE_PRIORITY_BUMP);
    expect(swept[0]?.supervisorIds).toEqual([String(sup?._id)]);
    expect(await slaSweep(t.db, later(74))).toEqual([]);

    // Overdue work is claimed first, though a newer case has the same base priority.
    expect((await claimNext(t.db, 'public_works', 'amina'))?.reference).toBe(late.reference);
    expect((await t.db.Case.findOne({ reference: fresh.reference }).lean())?.overdue).toBe(false);
  });

  it('pauses while the case waits on the citizen', async () => {
    const c = await roads(t0);
    await claimCase(t.db, c.reference, 'amina');
    await awaitCitizen(t.db, c.reference, { kind: 'official', id: 'amina' });
    expect(await slaSweep(t.db, later(100))).toEqual([]);
  });

  it('reports each overdue case once even when two sweeps overlap', async () => {
    await Promise.all(Array.from({ length: 30 }, () => roads(t0)));
    const [a, b] = await Promise.all([slaSweep(t.db, later(80)), slaSweep(t.db, later(80))]);
    const refs = [...(a ?? []), ...(b ?? [])].map((c) => c.reference);
    expect(refs).toHaveLength(30);
    expect(new Set(refs).size).toBe(30);
    const priorities = await t.db.Case.distinct('priority');
    expect(priorities).toEqual([OVERDUE_PRIORITY_BUMP]);
  });
});

describe('leases', () => {
  it('are held by one owner at a time, renewable by it, and taken over once expired', async () => {
    expect(await acquireLease(t.db, 'job', 'app-1', 1000, t0)).toBe(true);
    expect(await acquireLease(t.db, 'job', 'app-2', 1000, new Date(t0.getTime() + 500))).toBe(false);
    expect(await acquireLease(t.db, 'job', 'app-1', 1000, new Date(t0.getTime() + 900))).toBe(true);
    // Renewed at +900 for 1 s: still held at +1500.
    expect(await acquireLease(t.db, 'job', 'app-2', 1000, new Date(t0.getTime() + 1500))).toBe(false);
    expect(await acquireLease(t.db, 'job', 'app-2', 1000, new Date(t0.getTime() + 1901))).toBe(true);
    expect(await acquireLease(t.db, 'job', 'app-1', 1000, new Date(t0.getTime() + 1902))).toBe(false);
    expect(await releaseLease(t.db, 'job', 'app-1')).toBe(false);
    expect(await releaseLease(t.db, 'job', 'app-2')).toBe(true);
    expect(await acquireLease(t.db, 'job', 'app-1', 1000, new Date(t0.getTime() + 1903))).toBe(true);
  });

  it('are taken many at a time with the same rules, each key answering for itself', async () => {
    expect(await acquireLease(t.db, 'many-held', 'app-2', 1000, t0)).toBe(true);
    expect(await acquireLease(t.db, 'many-expired', 'app-2', 1000, t0)).toBe(true);
    expect(await acquireLease(t.db, 'many-mine', 'app-1', 1000, t0)).toBe(true);
    const at = new Date(t0.getTime() + 500);
    await t.db.Lease.updateOne({ key: 'many-expired' }, { $set: { until: at } });
    expect(
      await acquireLeases(t.db, ['many-held', 'many-new', 'many-expired', 'many-mine'], 'app-1', 1000, at),
    ).toEqual([false, true, true, true]);
    const holders = await t.db.Lease.find({ key: /^many-/ })
      .sort({ key: 1 })
      .lean();
    expect(holders.map((l) => [l.key, l.owner])).toEqual([
      ['many-expired', 'app-1'],
      ['many-held', 'app-2'],
      ['many-mine', 'app-1'],
      ['many-new', 'app-1'],
    ]);
  });

  it('go to exactly one of many instances racing for them over separate connections', async () => {
    const instances = await Promise.all(Array.from({ length: 8 }, () => t.another()));
    const won = await Promise.all(
      instances.map((db, i) => acquireLease(db, 'sla-race', `app-${i}`, 60_000, t0)),
    );
    expect(won.filter(Boolean)).toHaveLength(1);
  });

  it('keep a second sweeper from sweeping while the first holds the lease', async () => {
    await roads(later(-100)); // already overdue now
    const other = await t.another();
    const reports: { by: string; cases: OverdueCase[] }[] = [];
    const first = startSlaSweeper(t.db, {
      owner: 'app-1',
      intervalMs: 60_000,
      onOverdue: (cases) => void reports.push({ by: 'app-1', cases }),
    });
    // Wait for app-1's first tick to have taken the lease before app-2 starts.
    await expect.poll(() => reports.length, { timeout: 20_000 }).toBe(1);
    // Another overdue case app-2 would report if it swept.
    await roads(later(-100));
    const second = startSlaSweeper(other, {
      owner: 'app-2',
      intervalMs: 60_000,
      onOverdue: (cases) => void reports.push({ by: 'app-2', cases }),
    });
    await second.stop();
    expect(reports.map((r) => r.by)).toEqual(['app-1']);
    expect(await t.db.Case.countDocuments({ overdue: false })).toBe(1);
    await first.stop();
    expect(await t.db.Lease.countDocuments({ key: 'sla-sweeper' })).toBe(0);
  });
});
