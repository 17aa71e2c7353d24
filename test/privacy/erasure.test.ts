import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleRoutes } from '../../src/console/routes.js';
import { CaseNotifier } from '../../src/engine/notifications.js';
import { toPlainText, type Reply } from '../../src/engine/replies.js';
import { privacyRoutes } from '../../src/privacy/routes.js';
import { addOfficial, logIn, type LoggedIn } from '../console/harness.js';
import { startTestBot, type TestBot } from '../helpers/bot.js';

const REFERENCE = /C-[2-9A-HJKMNP-Z]{6}/;
const text = (replies: Reply[]): string => replies.map(toPlainText).join('\n---\n');

let bot: TestBot;
let http: FastifyInstance;
let admin: LoggedIn;
let supervisor: LoggedIn;
let agent: LoggedIn;

beforeAll(async () => {
  bot = await startTestBot();
  // The privacy plugin mounts beside the console, on the same app, as src/app.ts will do.
  http = Fastify();
  await consoleRoutes(http, {
    db: bot.db,
    notifier: new CaseNotifier(bot.app.engine, bot.db, bot.app.i18n),
    i18n: bot.app.i18n,
    loginRateLimit: { max: 1000, timeWindowMs: 60_000 },
  });
  await privacyRoutes(http, { db: bot.db });
  await http.ready();
  admin = await logIn(http, await addOfficial(bot.db, 'admin@city.test', 'admin', []));
  supervisor = await logIn(
    http,
    await addOfficial(bot.db, 'sup@city.test', 'supervisor', ['public_works', 'citizen_services']),
  );
  agent = await logIn(http, await addOfficial(bot.db, 'agent@city.test', 'agent', ['public_works']));
});

afterAll(async () => {
  await http?.close();
  await bot?.stop();
});

/** Walks the complaint form with a photo and returns the case reference. */
async function complain(
  user: string,
  opts: { description: string; category: string; place: string; anonymous: boolean; photoUrl?: string },
  userName?: string,
): Promise<string> {
  const extra = userName !== undefined ? { userName } : {};
  const categories = await bot.send(opts.description, user, extra);
  expect(categories.at(-1)?.kind).toBe('choices');
  const located = await bot.send(opts.category, user, extra);
  expect(located.at(-1)?.kind).toBe('location_request');
  await bot.send(opts.place, user, extra);
  if (opts.photoUrl !== undefined) {
    await bot.sendActivity({
      user,
      ...extra,
      attachments: [{ contentType: 'image/jpeg', url: opts.photoUrl, name: 'lamp.jpg' }],
    });
  } else {
    await bot.send('1', user, extra); // skip the photo
  }
  // Anonymity: corruption asks "stay anonymous?" with yes first; other categories with no first.
  await bot.send('1', user, extra);
  await bot.send('1', user, extra); // consent to be contacted
  const created = await bot.send('1', user, extra); // send
  const match = REFERENCE.exec(text(created));
  if (!match) throw new Error(`no reference in: ${text(created)}`);
  const stored = await bot.db.Case.findOne({ reference: match[0] }).lean();
  expect(stored?.anonymous).toBe(opts.anonymous);
  return match[0];
}

/** Every document of every collection, as one lowercased JSON text. */
async function wholeDatabase(): Promise<{ text: string; collections: string[] }> {
  const native = bot.db.connection.db;
  if (native === undefined) throw new Error('no database handle');
  const collections = (await native.listCollections().toArray()).map((c) => c.name).sort();
  const parts: string[] = [];
  for (const name of collections) {
    const docs = await native.collection(name).find({}).toArray();
    parts.push(`${name}:${JSON.stringify(docs)}`);
  }
  return { text: parts.join('\n').toLowerCase(), collections };
}

describe('erasure of a citizen everywhere', () => {
  const USER = 'zq-5550199';
  const NAME = 'Zorblatt Quimby';
  const DISTINCTIVE = [
    'Zorblatt',
    'Quimby',
    'Wexley',
    'Quillbury',
    '900461',
    USER,
    'zorblatt-lamp',
    'grumplesnatch',
  ];

  it('leaves none of their words, names, photos or ids in any collection, and keeps the anonymous facts', async () => {
    await bot.send('hello', USER, { userName: NAME });
    const complaint = await complain(
      USER,
      {
        description: `My name is ${NAME} and the street light outside 17 Wexley Crescent has been dark for a week`,
        category: '2',
        place: 'Wexley Crescent 17, Quillbury',
        anonymous: false,
        photoUrl: 'https://files.example/zorblatt-lamp.jpg',
      },
      NAME,
    );
    const stored = await bot.db.Case.findOne({ reference: complaint }).lean();
    expect(stored?.fields.photos).toHaveLength(1);
    expect(stored?.category).toBe('lighting');

    // An official notes and resolves the complaint; the citizen rates it.
    const noteOn = async (reference: string): Promise<void> => {
      const noted = await http.inject({
        method: 'POST',
        url: `/api/v1/cases/${reference}/notes`,
        headers: admin.bearer,
        payload: { text: `${NAME} of Wexley Crescent called twice, grumplesnatch` },
      });
      expect(noted.statusCode, noted.body).toBe(201);
    };
    await noteOn(complaint);
    const resolved = await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${complaint}/resolve`,
      headers: admin.bearer,
      payload: { note: 'Lamp replaced for Mr Quimby at Wexley Crescent' },
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    await bot.settle();
    await bot.send('5', USER, { userName: NAME });
    expect((await bot.db.Case.findOne({ reference: complaint }).lean())?.rating).toBe(5);

    // A handoff with the recent conversation as transcript, then a message that goes to the case.
    const handoff = await bot.send('I want to talk to a person', USER, { userName: NAME });
    const handoffRef = REFERENCE.exec(text(handoff))?.[0];
    if (handoffRef === undefined) throw new Error(`no handoff reference in ${text(handoff)}`);
    await bot.send('please call me back on +44 7700 900461 and ask for Zorblatt', USER, { userName: NAME });
    const live = await bot.db.Case.findOne({ reference: handoffRef }).lean();
    expect(JSON.stringify(live?.transcript)).toContain('900461');
    await noteOn(handoffRef);
    const answered = await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${handoffRef}/replies`,
      headers: admin.bearer,
      payload: { text: 'Dear Zorblatt, the lamp in Wexley Crescent is on our list' },
    });
    expect(answered.statusCode, answered.body).toBe(201);
    await bot.settle();

    const before = await wholeDatabase();
    for (const s of DISTINCTIVE) expect(before.text, s).toContain(s.toLowerCase());

    // An agent may not erase; a supervisor or admin handling the written request may.
    const forbidden = await http.inject({
      method: 'POST',
      url: '/api/v1/privacy/erasures',
      headers: agent.bearer,
      payload: { channel: 'test', channelUserId: USER },
    });
    expect(forbidden.statusCode).toBe(403);
    const erased = await http.inject({
      method: 'POST',
      url: '/api/v1/privacy/erasures',
      headers: admin.bearer,
      payload: { channel: 'test', channelUserId: USER },
    });
    expect(erased.statusCode, erased.body).toBe(200);
    expect(erased.json<{ erased: { citizens: number; cases: number } }>().erased).toMatchObject({
      citizens: 1,
      cases: 2,
    });

    const after = await wholeDatabase();
    expect(after.collections).toEqual(
      expect.arrayContaining(['cases', 'citizens', 'inbound_messages', 'outbound_messages', 'state']),
    );
    const left = DISTINCTIVE.filter((s) => after.text.includes(s.toLowerCase()));
    expect(left).toEqual([]);

    // The anonymous facts stay, so statistics stay true.
    const facts = await bot.db.Case.findOne({ reference: complaint }).lean();
    expect(facts).toMatchObject({
      category: 'lighting',
      department: 'public_works',
      // Rated, hence closed.
      status: 'closed',
      rating: 5,
      anonymous: true,
    });
    expect(facts?.resolvedAt).toBeInstanceOf(Date);
    expect(facts?.closedAt).toBeInstanceOf(Date);
    expect(facts?.transcript).toEqual([]);
    expect(facts?.notes).toEqual([]);
    expect(facts?.citizen).toBeUndefined();
    const handoffFacts = await bot.db.Case.findOne({ reference: handoffRef }).lean();
    expect(handoffFacts?.status).toBe('closed');
    expect(handoffFacts?.firstResponseAt).toBeInstanceOf(Date);

    // Accountability: who erased, when, without personal data.
    const event = await bot.db.AuditEvent.findOne({ action: 'erased' }).sort({ seq: -1 }).lean();
    expect(event?.actor).toMatchObject({ kind: 'official' });
    expect(JSON.stringify(event?.details)).toContain(complaint);

    // A second request for the same person finds nobody left to erase.
    const again = await http.inject({
      method: 'POST',
      url: '/api/v1/privacy/erasures',
      headers: admin.bearer,
      payload: { channel: 'test', channelUserId: USER },
    });
    expect(again.statusCode).toBe(404);

    // Writing again starts a new conversation, with the privacy notice again.
    const fresh = await bot.send('hello', USER);
    expect(fresh[0]?.kind).toBe('link');
  });

  it('erases by case reference, within the supervisor’s departments only', async () => {
    const reference = await complain('erin-77', {
      description: 'The pothole in front of the Blorvington bakery broke my bicycle wheel yesterday',
      category: '1',
      place: 'Blorvington bakery',
      anonymous: false,
    });
    const elsewhere = await complain('erin-88', {
      description: 'The tram driver on line 4 near Snodgrass square was shouting at passengers',
      category: '6',
      place: 'Snodgrass square',
      anonymous: false,
    });
    const outOfScope = await http.inject({
      method: 'POST',
      url: '/api/v1/privacy/erasures',
      headers: supervisor.bearer,
      payload: { reference: elsewhere },
    });
    expect(outOfScope.statusCode).toBe(404);
    const done = await http.inject({
      method: 'POST',
      url: '/api/v1/privacy/erasures',
      headers: supervisor.bearer,
      payload: { reference },
    });
    expect(done.statusCode, done.body).toBe(200);
    const all = await wholeDatabase();
    expect(all.text).not.toContain('blorvington');
    expect(all.text).not.toContain('erin-77');
    expect(all.text).toContain('snodgrass');
  });

  it('erases through the chat after confirmation too, conversation state included', async () => {
    await complain('yuki-3', {
      description: 'Garbage has not been collected on Plimsworth lane for two whole weeks now',
      category: '3',
      place: 'Plimsworth lane',
      anonymous: false,
    });
    await bot.send('delete everything you know about me', 'yuki-3');
    await bot.send('1', 'yuki-3');
    await bot.settle();
    const all = await wholeDatabase();
    expect(all.text).not.toContain('plimsworth');
    expect(await bot.db.StateItem.countDocuments({ _id: 'test/conversations/yuki-3/' })).toBe(0);
  });
});

describe('anonymous reports', () => {
  it('never show officials the platform user id or name, on any console endpoint', async () => {
    const USER = 'whistle-4471923';
    const NAME = 'Griselda Thornapple';
    await bot.send('hi', USER, { userName: NAME });
    const reference = await complain(
      USER,
      {
        description: 'An inspector at the permits office asked me for cash to approve my building permit',
        category: '7',
        place: 'Permits office',
        anonymous: true,
      },
      NAME,
    );
    const corruption = await bot.db.Case.findOne({ reference }).lean();
    expect(corruption?.department).toBe('integrity');
    const bodies: string[] = [];
    const get = async (url: string): Promise<void> => {
      const res = await http.inject({ method: 'GET', url, headers: admin.bearer });
      expect(res.statusCode, `${url}: ${res.body}`).toBeLessThan(300);
      bodies.push(res.body);
    };
    for (const url of [
      '/api/v1/me',
      '/api/v1/queues',
      '/api/v1/cases',
      '/api/v1/cases?department=integrity',
      `/api/v1/cases/${reference}`,
      '/api/v1/departments',
      '/api/v1/officials',
      '/api/v1/category-routes',
      '/api/docs',
    ]) {
      await get(url);
    }
    for (const [method, url, payload] of [
      ['POST', `/api/v1/cases/${reference}/claim`, undefined],
      ['POST', `/api/v1/cases/${reference}/notes`, { text: 'checking the permits ledger' }],
      ['POST', `/api/v1/cases/${reference}/replies`, { text: 'Thank you, we are looking into it.' }],
      ['POST', `/api/v1/cases/${reference}/resolve`, { note: 'Referred to the inspectorate.' }],
    ] as const) {
      const res = await http.inject({ method, url, headers: admin.bearer, ...(payload ? { payload } : {}) });
      expect(res.statusCode, `${url}: ${res.body}`).toBeLessThan(300);
      bodies.push(res.body);
    }
    const seen = bodies.join('\n');
    expect(seen).toContain(reference);
    expect(seen).not.toContain(USER);
    expect(seen).not.toContain('4471923');
    expect(seen).not.toContain('Thornapple');
    const citizen = await bot.db.Citizen.findOne({ channelUserId: USER }).lean();
    expect(seen).not.toContain(String(citizen?._id));
  });
});

describe('privacy notice', () => {
  it('records the acknowledgement on the citizen at their first message after the notice, once', async () => {
    const USER = 'ack-1';
    const first = await bot.send('hello', USER);
    expect(first[0]?.kind).toBe('link');
    const shown = await bot.db.Citizen.findOne({ channel: 'test', channelUserId: USER }).lean();
    expect(shown?.privacyAckAt).toBeUndefined();
    await bot.send('how do i renew my passport', USER);
    const acknowledged = await bot.db.Citizen.findOne({ channel: 'test', channelUserId: USER }).lean();
    expect(acknowledged?.privacyAckAt).toBeInstanceOf(Date);
    await bot.send('thanks', USER);
    const later = await bot.db.Citizen.findOne({ channel: 'test', channelUserId: USER }).lean();
    expect(later?.privacyAckAt).toEqual(acknowledged?.privacyAckAt);
  });

  it('counts a message in the middle of a form as acknowledgement too', async () => {
    const USER = 'ack-2';
    await bot.send('I want to report a broken street light near the school', USER);
    expect((await bot.db.Citizen.findOne({ channelUserId: USER }).lean())?.privacyAckAt).toBeUndefined();
    await bot.send('2', USER);
    expect((await bot.db.Citizen.findOne({ channelUserId: USER }).lean())?.privacyAckAt).toBeInstanceOf(Date);
  });
});
