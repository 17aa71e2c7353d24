import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import {
  addNote,
  addTranscript,
  assign,
  awaitCitizen,
  CaseError,
  claimCase,
  claimNext,
  close,
  createCase,
  enqueue,
  findCase,
  liveCaseOf,
  rate,
  release,
  reopen,
  resolve,
  transfer,
  type NewCase,
} from '../../src/cases/index.js';
import { openTestDb, type TestDb } from './support.js';

let t: TestDb;
const HOUR = 3_600_000;
const amina = { kind: 'official', id: 'amina' } as const;
const boris = { kind: 'official', id: 'boris' } as const;

beforeAll(async () => {
  t = await openTestDb();
});
afterAll(async () => t.stop());
beforeEach(async () => {
  await t.db.Case.deleteMany({});
});

const complaint = (over: Partial<NewCase> = {}): NewCase => ({
  kind: 'complaint',
  category: 'lighting',
  channel: 'telegram',
  lang: 'en',
  fields: { description: 'streetlight broken for a week', location: { text: '4 High St' } },
  ...over,
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof CaseError)) throw new Error(`expected a CaseError, got ${String(err)}`);
  return err.code;
}

describe('createCase', () => {
  it('routes the category to its department, opens the case and sets its SLA from the department', async () => {
    const now = new Date('2026-03-02T09:00:00Z');
    const c = await createCase(t.db, complaint({ now }));
    expect(c.reference).toMatch(/^C-[2-9A-HJKMNP-Z]{6}$/);
    expect(c.department).toBe('public_works');
    expect(c.status).toBe('open');
    expect(c.slaDueAt.getTime() - now.getTime()).toBe(72 * HOUR);
    expect(c.createdAt.getTime()).toBe(now.getTime());
    expect(c.fields.description).toBe('streetlight broken for a week');
    expect((await findCase(t.db, c.reference))?._id.equals(c._id)).toBe(true);
  });

  it('routes with the admin-edited route, and unknown categories to citizen services', async () => {
    await t.db.CategoryRoute.updateOne({ category: 'waste' }, { $set: { department: 'utilities' } });
    try {
      expect((await createCase(t.db, complaint({ category: 'waste' }))).department).toBe('utilities');
      expect((await createCase(t.db, complaint({ category: 'noise' }))).department).toBe('citizen_services');
      expect(
        (await createCase(t.db, complaint({ kind: 'suggestion', category: 'suggestion' }))).department,
      ).toBe('participation');
    } finally {
      await t.db.CategoryRoute.updateOne({ category: 'waste' }, { $set: { department: 'public_works' } });
    }
  });

  it('draws another reference when the first is taken', async () => {
    const first = await createCase(t.db, complaint());
    const draws = [first.reference, first.reference, 'C-22222Z'];
    const second = await createCase(t.db, complaint(), { drawReference: () => draws.shift() ?? 'C-ZZZZZZ' });
    expect(second.reference).toBe('C-22222Z');
    expect(draws).toEqual([]);
  });

  it('gives up with REFERENCE_EXHAUSTED instead of looping when every draw collides', async () => {
    const first = await createCase(t.db, complaint());
    expect(await codeOf(createCase(t.db, complaint(), { drawReference: () => first.reference }))).toBe(
      'REFERENCE_EXHAUSTED',
    );
  });

  it('refuses an unknown department', async () => {
    expect(await codeOf(createCase(t.db, complaint({ department: 'nowhere' })))).toBe('DEPARTMENT_NOT_FOUND');
  });
});

describe('claimNext', () => {
  it('hands out the highest priority first, then the oldest, and null when the queue is empty', async () => {
    const t0 = Date.parse('2026-03-02T09:00:00Z');
    const at = (min: number) => new Date(t0 + min * 60_000);
    const old = await createCase(t.db, complaint({ now: at(0) }));
    const urgentNew = await createCase(t.db, complaint({ now: at(10), priority: 5 }));
    const urgentOld = await createCase(t.db, complaint({ now: at(5), priority: 5 }));
    const newer = await createCase(t.db, complaint({ now: at(1) }));
    await createCase(t.db, complaint({ category: 'water', now: at(-100), priority: 99 }));

    const order: string[] = [];
    for (let c = await claimNext(t.db, 'public_works', 'amina'); c !== null;) {
      expect(c.status).toBe('assigned');
      expect(c.assignee).toBe('amina');
      order.push(c.reference);
      c = await claimNext(t.db, 'public_works', 'amina');
    }
    expect(order).toEqual([urgentOld.reference, urgentNew.reference, old.reference, newer.reference]);
    expect(await claimNext(t.db, 'public_works', 'amina')).toBeNull();
    expect((await claimNext(t.db, 'utilities', 'boris'))?.category).toBe('water');
  });
});

describe('lifecycle', () => {
  it('open → assigned → waiting_on_citizen → assigned → resolved → closed, with who and when', async () => {
    const citizen = new Types.ObjectId();
    const c = await createCase(t.db, complaint({ citizen }));
    expect((await liveCaseOf(t.db, citizen))?.reference).toBe(c.reference);

    await claimCase(t.db, c.reference, 'amina');
    const answered = await addTranscript(t.db, c.reference, {
      from: 'official',
      officialId: 'amina',
      text: 'Which pole?',
    });
    expect(answered.firstResponseAt).toBeInstanceOf(Date);
    await awaitCitizen(t.db, c.reference, amina);
    const back = await addTranscript(t.db, c.reference, { from: 'citizen', text: 'the one by the bakery' });
    expect(back.status).toBe('assigned');
    const again = await addTranscript(t.db, c.reference, {
      from: 'official',
      officialId: 'amina',
      text: 'Thanks',
    });
    expect(again.firstResponseAt?.getTime()).toBe(answered.firstResponseAt?.getTime());

    const resolved = await resolve(t.db, c.reference, 'Bulb replaced', amina);
    expect(resolved.status).toBe('resolved');
    expect(resolved.resolutionNote).toBe('Bulb replaced');
    expect(resolved.resolvedAt).toBeInstanceOf(Date);
    expect(await liveCaseOf(t.db, citizen)).toBeNull();

    const rated = await rate(t.db, c.reference, 4);
    expect(rated.rating).toBe(4);
    expect(rated.status).toBe('closed');
    expect(rated.history.map((h) => [h.action, h.from, h.to])).toEqual([
      ['create', undefined, 'open'],
      ['claim', 'open', 'assigned'],
      ['await_citizen', 'assigned', 'waiting_on_citizen'],
      ['citizen_answer', 'waiting_on_citizen', 'assigned'],
      ['resolve', 'assigned', 'resolved'],
      ['rate', 'resolved', 'closed'],
    ]);
    expect(rated.history[1]?.by).toEqual({ kind: 'official', id: 'amina' });
    expect(rated.transcript.map((e) => e.from)).toEqual(['official', 'citizen', 'official']);
  });

  it('transfer puts the case, unassigned, in the other department’s queue and keeps its SLA', async () => {
    const c = await createCase(t.db, complaint());
    await claimCase(t.db, c.reference, 'amina');
    const moved = await transfer(t.db, c.reference, 'utilities', amina);
    expect(moved.department).toBe('utilities');
    expect(moved.status).toBe('open');
    expect(moved.assignee).toBeUndefined();
    expect(moved.slaDueAt.getTime()).toBe(c.slaDueAt.getTime());
    expect(await claimNext(t.db, 'public_works', 'amina')).toBeNull();
    expect((await claimNext(t.db, 'utilities', 'boris'))?.reference).toBe(c.reference);
  });

  it('reopen by an official assigns it to them; reopen by the citizen puts it back in the queue', async () => {
    const c = await createCase(t.db, complaint());
    await claimCase(t.db, c.reference, 'amina');
    await resolve(t.db, c.reference, 'done', amina);
    await rate(t.db, c.reference, 2);
    const reopened = await reopen(t.db, c.reference, boris);
    expect(reopened.status).toBe('assigned');
    expect(reopened.assignee).toBe('boris');
    expect(reopened.rating).toBeUndefined();
    expect(reopened.resolvedAt).toBeUndefined();
    await resolve(t.db, c.reference, 'done again', boris);
    const byCitizen = await reopen(t.db, c.reference, { kind: 'citizen' });
    expect(byCitizen.status).toBe('open');
    expect(byCitizen.assignee).toBeUndefined();
    expect((await claimNext(t.db, 'public_works', 'amina'))?.reference).toBe(c.reference);
  });

  it('release gives the case back to the queue; enqueue does it for someone else’s case', async () => {
    const c = await createCase(t.db, complaint());
    await claimCase(t.db, c.reference, 'amina');
    expect(await codeOf(release(t.db, c.reference, 'boris'))).toBe('CASE_NOT_ASSIGNED');
    expect((await release(t.db, c.reference, 'amina')).status).toBe('open');
    await claimCase(t.db, c.reference, 'amina');
    const freed = await enqueue(t.db, c.reference, { kind: 'official', id: 'supervisor' });
    expect(freed.status).toBe('open');
    expect(freed.assignee).toBeUndefined();
    expect((await assign(t.db, c.reference, 'boris', { kind: 'official', id: 'supervisor' })).assignee).toBe(
      'boris',
    );
  });

  it('notes are internal and allowed in any status', async () => {
    const c = await createCase(t.db, complaint());
    await claimCase(t.db, c.reference, 'amina');
    await resolve(t.db, c.reference, 'done', amina);
    const noted = await addNote(t.db, c.reference, 'amina', 'called the contractor');
    expect(noted.notes.map((n) => n.text)).toEqual(['called the contractor']);
    expect(noted.transcript).toEqual([]);
  });
});

describe('invalid transitions are rejected with a coded error and change nothing', () => {
  it('rejects each wrong move', async () => {
    const c = await createCase(t.db, complaint());
    expect(await codeOf(findAndFail('C-ZZZZZZ'))).toBe('CASE_NOT_FOUND');
    expect(await codeOf(rate(t.db, c.reference, 5))).toBe('CASE_NOT_RESOLVED');
    expect(await codeOf(reopen(t.db, c.reference, amina))).toBe('CASE_NOT_RESOLVED');
    expect(await codeOf(close(t.db, c.reference, amina))).toBe('CASE_NOT_RESOLVED');
    expect(await codeOf(awaitCitizen(t.db, c.reference, amina))).toBe('CASE_NOT_ASSIGNED');
    expect(await codeOf(transfer(t.db, c.reference, 'public_works', amina))).toBe('CASE_SAME_DEPARTMENT');
    expect(await codeOf(transfer(t.db, c.reference, 'nowhere', amina))).toBe('DEPARTMENT_NOT_FOUND');

    await claimCase(t.db, c.reference, 'amina');
    expect(await codeOf(claimCase(t.db, c.reference, 'boris'))).toBe('CASE_NOT_CLAIMABLE');

    await resolve(t.db, c.reference, 'done', amina);
    const before = await findCase(t.db, c.reference);
    expect(await codeOf(resolve(t.db, c.reference, 'again', amina))).toBe('CASE_RESOLVED');
    expect(await codeOf(transfer(t.db, c.reference, 'utilities', amina))).toBe('CASE_RESOLVED');
    expect(await codeOf(claimCase(t.db, c.reference, 'boris'))).toBe('CASE_RESOLVED');
    expect(
      await codeOf(
        addTranscript(t.db, c.reference, { from: 'official', officialId: 'amina', text: 'hello?' }),
      ),
    ).toBe('CASE_RESOLVED');
    expect(await codeOf(rate(t.db, c.reference, 0))).toBe('INVALID_RATING');
    expect(await codeOf(rate(t.db, c.reference, 4.5))).toBe('INVALID_RATING');
    await rate(t.db, c.reference, 5);
    expect(await codeOf(rate(t.db, c.reference, 1))).toBe('CASE_ALREADY_RATED');

    const after = await findCase(t.db, c.reference);
    expect(after?.rating).toBe(5);
    expect(after?.transcript).toEqual(before?.transcript);
    expect(after?.department).toBe('public_works');
  });

  it('lets only one of two officials claiming the same case at once win', async () => {
    const c = await createCase(t.db, complaint());
    const results = await Promise.allSettled([
      claimCase(t.db, c.reference, 'amina'),
      claimCase(t.db, c.reference, 'boris'),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const stored = await findCase(t.db, c.reference);
    expect(stored?.history.filter((h) => h.action === 'claim')).toHaveLength(1);
  });
});

function findAndFail(reference: string): Promise<unknown> {
  return claimCase(t.db, reference, 'amina');
}
