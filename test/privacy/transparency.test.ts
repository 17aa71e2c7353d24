import Fastify, { type FastifyInstance } from 'fastify';
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/connection.js';
import { loadTranslator } from '../../src/i18n/index.js';
import { median, type PublicStats } from '../../src/privacy/stats.js';
import { pickLang, transparencyRoutes } from '../../src/privacy/transparency.js';
import { startTestMongo, type TestMongo } from '../helpers/mongo.js';

const NOW = new Date('2026-03-15T12:00:00Z');
const HOUR = 3_600_000;
const PERSONAL = ['Zanzibar Quellington', '+44 7700 900777', 'quellington@example.org', 'tg-90817263'];

let mongo: TestMongo;
let db: Db;
let http: FastifyInstance;
let seq = 0;

function caseDoc(
  createdAt: string,
  o: {
    category: string;
    department: string;
    status: string;
    firstAfterH?: number;
    resolvedAfterH?: number;
    slaH?: number;
    rating?: number;
    kind?: string;
  },
) {
  seq += 1;
  const created = new Date(createdAt);
  const at = (h: number | undefined): Date | undefined =>
    h === undefined ? undefined : new Date(created.getTime() + h * HOUR);
  return {
    reference: `C-${String.fromCharCode(65 + Math.floor(seq / 8))}${'23456789'[seq % 8] ?? '2'}2345`,
    kind: o.kind ?? 'complaint',
    category: o.category,
    department: o.department,
    status: o.status,
    priority: 0,
    overdue: false,
    anonymous: false,
    channel: 'telegram',
    lang: 'en',
    citizen: new Types.ObjectId(),
    fields: {
      description: `${PERSONAL[0] ?? ''} reports a problem, call ${PERSONAL[1] ?? ''}`,
      contact: PERSONAL[2],
      photos: [],
    },
    transcript: [{ from: 'citizen', text: `I am ${PERSONAL[3] ?? ''}`, at: created, attachments: [] }],
    notes: [],
    history: [],
    createdAt: created,
    updatedAt: created,
    slaDueAt: new Date(created.getTime() + (o.slaH ?? 48) * HOUR),
    ...(at(o.firstAfterH) ? { firstResponseAt: at(o.firstAfterH) } : {}),
    ...(at(o.resolvedAfterH) ? { resolvedAt: at(o.resolvedAfterH) } : {}),
    ...(o.rating !== undefined ? { rating: o.rating } : {}),
  };
}

beforeAll(async () => {
  mongo = await startTestMongo();
  db = await openDatabase(mongo.uri);
  const january = [
    [2, 10, 5],
    [4, 20, 4],
    [6, 30, 4],
    [8, 40, 3],
    [10, 50, 5],
    [12, 60, 3],
  ].map(([first, resolved, rating], i) =>
    caseDoc(`2026-01-${String(10 + i)}T08:00:00Z`, {
      category: 'roads',
      department: 'public_works',
      status: 'resolved',
      firstAfterH: first,
      resolvedAfterH: resolved,
      rating,
    }),
  );
  await db.Case.collection.insertMany([
    ...january,
    caseDoc('2026-01-20T08:00:00Z', { category: 'water', department: 'utilities', status: 'open' }),
    caseDoc('2026-01-21T08:00:00Z', { category: 'water', department: 'utilities', status: 'open' }),
    ...[1, 2, 3].map((d) =>
      caseDoc(`2026-02-0${d}T08:00:00Z`, {
        category: 'corruption',
        department: 'integrity',
        status: 'assigned',
        firstAfterH: 1,
      }),
    ),
    // Outside the window, and an erasure request: neither counts.
    caseDoc('2025-12-31T23:00:00Z', { category: 'roads', department: 'public_works', status: 'closed' }),
    caseDoc('2026-02-10T08:00:00Z', {
      category: 'other',
      department: 'citizen_services',
      status: 'open',
      kind: 'erasure',
    }),
  ]);
  http = Fastify();
  await transparencyRoutes(http, { db, i18n: loadTranslator(), clock: () => NOW });
  await http.ready();
});

afterAll(async () => {
  await http?.close();
  await db?.close();
  await mongo?.stop();
});

async function stats(months = 3): Promise<PublicStats> {
  const res = await http.inject({ method: 'GET', url: `/api/v1/stats?months=${months}` });
  expect(res.statusCode).toBe(200);
  return res.json<PublicStats>();
}

describe('GET /api/v1/stats', () => {
  it('gives exact figures per month on seeded cases, with small counts suppressed', async () => {
    const s = await stats();
    expect(s.from).toBe('2026-01');
    expect(s.to).toBe('2026-03');
    expect(s.suppressionThreshold).toBe(5);
    expect(s.months.map((m) => m.month)).toEqual(['2026-01', '2026-02', '2026-03']);
    const [jan, feb, mar] = s.months;
    expect(jan).toEqual({
      month: '2026-01',
      cases: 8,
      byCategory: { roads: 6, water: '<5' },
      byDepartment: { public_works: 6, utilities: '<5' },
      byStatus: { assigned: 0, closed: 0, open: '<5', resolved: 6, waiting_on_citizen: 0 },
      medianHoursToFirstAnswer: 7,
      medianHoursToResolution: 35,
      resolvedWithinSlaPercent: 67,
      averageSatisfaction: 4,
      ratings: 6,
    });
    // Three cases: every figure about them is suppressed, not only the count.
    expect(feb).toMatchObject({
      cases: '<5',
      byCategory: { corruption: '<5' },
      medianHoursToFirstAnswer: '<5',
      medianHoursToResolution: null,
      resolvedWithinSlaPercent: null,
      averageSatisfaction: null,
      ratings: 0,
    });
    expect(mar).toMatchObject({ cases: 0, byCategory: {}, medianHoursToFirstAnswer: null });
    expect(s.total).toMatchObject({
      cases: 11,
      byCategory: { corruption: '<5', roads: 6, water: '<5' },
      // 1, 1, 1, 2, 4, 6, 8, 10, 12 hours.
      medianHoursToFirstAnswer: 4,
      resolvedWithinSlaPercent: 67,
    });
  });

  it('widens the window on request and then counts the December case', async () => {
    const s = await stats(4);
    expect(s.months[0]).toMatchObject({ month: '2025-12', cases: '<5' });
    expect(s.total.cases).toBe(12);
  });

  it('contains no personal field and no case-level data', async () => {
    const res = await http.inject({ method: 'GET', url: '/api/v1/stats' });
    for (const secret of [...PERSONAL, 'C-', '"citizen"', 'description', 'transcript', 'reference']) {
      expect(res.body).not.toContain(secret);
    }
  });
});

describe('GET /transparency', () => {
  it('renders the page in the visitor’s language, with SVG charts and no script, and no login', async () => {
    const res = await http.inject({
      method: 'GET',
      url: '/transparency',
      headers: { 'accept-language': 'de-DE, fr-CH;q=0.9, en;q=0.8' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('<html lang="fr" dir="ltr">');
    expect(res.body).toContain(loadTranslator().t('transparency.title', 'fr'));
    expect(res.body.match(/<svg /g)?.length).toBe(4);
    expect(res.body).not.toContain('<script');
    // The suppressed counts, escaped as HTML text.
    expect(res.body).toContain('&#60;5');
  });

  it('renders Arabic right to left with ?lang=ar', async () => {
    const res = await http.inject({ method: 'GET', url: '/transparency?lang=ar' });
    expect(res.body).toContain('<html lang="ar" dir="rtl">');
    expect(res.body).toContain(loadTranslator().t('transparency.title', 'ar'));
    expect(res.body).toContain(loadTranslator().t('categories.roads', 'ar'));
  });

  it('shows no personal data', async () => {
    for (const lang of ['en', 'ar', 'zh']) {
      const res = await http.inject({ method: 'GET', url: `/transparency?lang=${lang}` });
      for (const secret of [...PERSONAL, 'C-']) expect(res.body).not.toContain(secret);
    }
  });
});

describe('helpers', () => {
  it('picks the language from ?lang=, then Accept-Language by quality, then English', () => {
    expect(pickLang('ru', 'fr')).toBe('ru');
    expect(pickLang('xx', 'de;q=1, zh-CN;q=0.5, es;q=0.7')).toBe('es');
    expect(pickLang(undefined, 'de, it')).toBe('en');
    expect(pickLang(undefined, undefined)).toBe('en');
  });

  it('computes medians of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
