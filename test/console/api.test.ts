import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCase } from '../../src/cases/index.js';
import { ensureAdmin, LOCKOUT_THRESHOLD } from '../../src/console/auth.js';
import { toPlainText, type Reply } from '../../src/engine/replies.js';
import { loadTranslator } from '../../src/i18n/index.js';
import { startTestBot, type TestBot } from '../helpers/bot.js';
import { addOfficial, consoleApp, logIn, type Account, type LoggedIn } from './harness.js';

const i18n = loadTranslator();
const REFERENCE = /C-[2-9A-HJKMNP-Z]{6}/;

interface CaseBody {
  reference: string;
  department: string;
  status: string;
  assignee: string | null;
  rating: number | null;
  fields: Record<string, unknown>;
  transcript: { from: string; text: string; delivery?: { status: string } }[];
  notes: { text: string; officialId: string }[];
}

let bot: TestBot;
let http: FastifyInstance;
let agent: Account;
let outsider: Account;
let supervisor: Account;
let agentSession: LoggedIn;

beforeAll(async () => {
  bot = await startTestBot();
  http = await consoleApp(bot);
  agent = await addOfficial(bot.db, 'agent@city.test', 'agent', ['citizen_services']);
  outsider = await addOfficial(bot.db, 'roads@city.test', 'agent', ['public_works']);
  supervisor = await addOfficial(bot.db, 'boss@city.test', 'supervisor', ['citizen_services']);
  agentSession = await logIn(http, agent);
});
afterAll(async () => {
  await http?.close();
  await bot?.stop();
});

/** A citizen asks for a human: a handoff case lands in citizen services. */
async function handoff(user: string): Promise<string> {
  const replies = await bot.send('let me speak to a human please', user);
  const match = REFERENCE.exec(replies.map(toPlainText).join('\n'));
  if (match === null) throw new Error('no case reference in the handoff reply');
  return match[0];
}

async function claimFor(session: LoggedIn, reference: string): Promise<void> {
  const res = await http.inject({
    method: 'POST',
    url: `/api/v1/cases/${reference}/claim`,
    headers: session.bearer,
  });
  expect(res.statusCode, res.body).toBe(200);
}

async function getCase(session: LoggedIn, reference: string): Promise<CaseBody> {
  const res = await http.inject({ url: `/api/v1/cases/${reference}`, headers: session.bearer });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<CaseBody>();
}

describe('sessions', () => {
  it('logs in with a httpOnly SameSite=Strict cookie and a Bearer token, both accepted', async () => {
    const res = await http.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: 'AGENT@city.test ', password: agent.password },
    });
    expect(res.statusCode).toBe(200);
    const cookie = res.cookies.find((c) => c.name === 'console_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie?.secure).toBeFalsy(); // plain http in this test
    const { token } = res.json<{ token: string }>();
    const viaBearer = await http.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } });
    expect(viaBearer.json()).toMatchObject({ email: 'agent@city.test', role: 'agent' });
    const viaCookie = await http.inject({
      url: '/api/v1/me',
      headers: { cookie: `console_session=${cookie?.value}` },
    });
    expect(viaCookie.statusCode).toBe(200);
  });

  it('rejects a wrong password and a missing session with 401', async () => {
    const wrong = await http.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: supervisor.email, password: 'not the password' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect((await http.inject({ url: '/api/v1/queues' })).statusCode).toBe(401);
    expect(
      (await http.inject({ url: '/api/v1/queues', headers: { authorization: 'Bearer ' + 'x'.repeat(43) } }))
        .statusCode,
    ).toBe(401);
    await bot.db.Official.updateOne({ email: supervisor.email }, { $set: { failedLogins: 0 } });
  });

  it('logs out: the token stops working', async () => {
    const session = await logIn(http, agent);
    const out = await http.inject({ method: 'DELETE', url: '/api/v1/session', headers: session.bearer });
    expect(out.statusCode).toBe(204);
    expect((await http.inject({ url: '/api/v1/me', headers: session.bearer })).statusCode).toBe(401);
  });

  it('locks the account after five failures in a row, even against the right password', async () => {
    const victim = await addOfficial(bot.db, 'victim@city.test', 'agent', ['utilities']);
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) {
      const res = await http.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { email: victim.email, password: `guess-${i}` },
      });
      expect(res.statusCode).toBe(401);
    }
    const locked = await http.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: victim.email, password: victim.password },
    });
    expect(locked.statusCode).toBe(423);
    expect(locked.json()).toMatchObject({ code: 'ACCOUNT_LOCKED' });
    const stored = await bot.db.Official.findOne({ email: victim.email }).lean();
    expect(stored?.lockedUntil?.getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
  });

  it('rate-limits login attempts per email and IP, and sets Secure cookies behind https', async () => {
    const strict = await consoleApp(bot, {
      loginRateLimit: { max: 3, timeWindowMs: 60_000 },
      publicUrl: 'https://city.example',
    });
    try {
      const attempt = (email: string, password = 'wrong password') =>
        strict.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password } });
      const ok = await attempt(supervisor.email, supervisor.password);
      expect(ok.cookies.find((c) => c.name === 'console_session')?.secure).toBe(true);
      expect(ok.headers['strict-transport-security']).toBeDefined();
      await attempt(supervisor.email);
      await attempt(supervisor.email);
      const limited = await attempt(supervisor.email, supervisor.password);
      expect(limited.statusCode).toBe(429);
      // Another email from the same address still gets through.
      expect((await attempt(agent.email, agent.password)).statusCode).toBe(200);
    } finally {
      await strict.close();
      await bot.db.Official.updateOne({ email: supervisor.email }, { $set: { failedLogins: 0 } });
    }
  });

  it('refuses cookie-authenticated writes without the CSRF token; Bearer clients need none', async () => {
    const reference = await handoff('csrf-user');
    const noToken = await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${reference}/notes`,
      headers: { cookie: agentSession.cookie },
      payload: { text: 'forged' },
    });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.json()).toMatchObject({ code: 'CSRF' });
    const wrongToken = await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${reference}/notes`,
      headers: { cookie: agentSession.cookie, 'x-csrf-token': 'x'.repeat(32) },
      payload: { text: 'forged' },
    });
    expect(wrongToken.statusCode).toBe(403);
    const withToken = await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${reference}/notes`,
      headers: agentSession.browser,
      payload: { text: 'from the browser' },
    });
    expect(withToken.statusCode).toBe(201);
    const bearer = await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${reference}/notes`,
      headers: agentSession.bearer,
      payload: { text: 'from another system' },
    });
    expect(bearer.statusCode).toBe(201);
    expect((await getCase(agentSession, reference)).notes.map((n) => n.text)).toEqual([
      'from the browser',
      'from another system',
    ]);
  });
});

describe('queues and cases', () => {
  it('answers 204 when the queue is empty and 404 for a queue outside the departments', async () => {
    const boss = await logIn(http, supervisor);
    // Drain citizen services first so the queue is empty.
    for (;;) {
      const res = await http.inject({
        method: 'POST',
        url: '/api/v1/queues/citizen_services/claim',
        headers: boss.bearer,
      });
      if (res.statusCode === 204) break;
      expect(res.statusCode).toBe(200);
    }
    const empty = await http.inject({
      method: 'POST',
      url: '/api/v1/queues/citizen_services/claim',
      headers: agentSession.bearer,
    });
    expect(empty.statusCode).toBe(204);
    expect(empty.body).toBe('');
    const other = await http.inject({
      method: 'POST',
      url: '/api/v1/queues/utilities/claim',
      headers: agentSession.bearer,
    });
    expect(other.statusCode).toBe(404);
  });

  it('shows the queue figures, claims the next case and delivers the answer to the citizen', async () => {
    const reference = await handoff('maria');
    await bot.send('my residence permit renewal has been pending for three months', 'maria');
    const queues = await http.inject({ url: '/api/v1/queues', headers: agentSession.bearer });
    expect(queues.json()).toEqual([
      expect.objectContaining({
        department: 'citizen_services',
        waiting: 1,
        oldestWaitingSince: expect.any(String),
      }),
    ]);
    const claimed = await http.inject({
      method: 'POST',
      url: '/api/v1/queues/citizen_services/claim',
      headers: agentSession.bearer,
    });
    expect(claimed.statusCode).toBe(200);
    const body = claimed.json<CaseBody>();
    expect(body).toMatchObject({ reference, status: 'assigned', assignee: agent.id });
    expect(body.transcript.map((t) => t.text)).toContain(
      'my residence permit renewal has been pending for three months',
    );

    const answer = 'Your permit was approved this morning; you can collect it at counter 3.';
    const replied = await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${reference}/replies`,
      headers: agentSession.bearer,
      payload: { text: answer },
    });
    expect(replied.statusCode, replied.body).toBe(201);
    await bot.settle();
    expect(bot.transcript('maria').some((t) => t.includes(answer))).toBe(true);
    const after = await getCase(agentSession, reference);
    expect(after.transcript.at(-1)).toMatchObject({
      from: 'official',
      text: answer,
      delivery: { status: 'sent' },
    });
  });

  it('resolves: the citizen is asked for a rating, and the rating lands on the case', async () => {
    const reference = await handoff('rating-user');
    await claimFor(agentSession, reference);
    const resolved = await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${reference}/resolve`,
      headers: agentSession.bearer,
      payload: { note: 'Appointment booked for Monday' },
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    expect(resolved.json()).toMatchObject({ status: 'resolved' });
    await bot.settle();
    const last = bot.collector.repliesTo('rating-user').slice(-2);
    expect(toPlainText(last[0] as Reply)).toContain('Appointment booked for Monday');
    expect(last[1]).toMatchObject({ kind: 'choices', text: i18n.t('case_update.rating_ask', 'en') });
    await bot.send('4', 'rating-user');
    expect(await getCase(agentSession, reference)).toMatchObject({ rating: 4, status: 'closed' });
  });

  it('refuses to answer a resolved case (409) until it is reopened', async () => {
    const reference = await handoff('reopen-user');
    await claimFor(agentSession, reference);
    await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${reference}/resolve`,
      headers: agentSession.bearer,
      payload: { note: 'done' },
    });
    const refused = await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${reference}/replies`,
      headers: agentSession.bearer,
      payload: { text: 'one more thing' },
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'CASE_RESOLVED' });
    const reopened = await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${reference}/reopen`,
      headers: agentSession.bearer,
    });
    expect(reopened.json()).toMatchObject({ status: 'assigned', assignee: agent.id });
    const answered = await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${reference}/replies`,
      headers: agentSession.bearer,
      payload: { text: 'one more thing' },
    });
    expect(answered.statusCode).toBe(201);
  });

  it("hides another department's case (404, not 403), and transfers take the case out of reach", async () => {
    const reference = await handoff('transfer-user');
    const roads = await logIn(http, outsider);
    for (const url of [`/api/v1/cases/${reference}`]) {
      const res = await http.inject({ url, headers: roads.bearer });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'CASE_NOT_FOUND' });
    }
    const note = await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${reference}/notes`,
      headers: roads.bearer,
      payload: { text: 'peek' },
    });
    expect(note.statusCode).toBe(404);

    const moved = await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${reference}/transfer`,
      headers: agentSession.bearer,
      payload: { department: 'public_works' },
    });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(
      (await http.inject({ url: `/api/v1/cases/${reference}`, headers: agentSession.bearer })).statusCode,
    ).toBe(404);
    expect(await getCase(roads, reference)).toMatchObject({ department: 'public_works', status: 'open' });
  });

  it('lets a supervisor reassign, but not an agent (403)', async () => {
    const reference = await handoff('reassign-user');
    await claimFor(agentSession, reference);
    const colleague = await addOfficial(bot.db, 'colleague@city.test', 'agent', ['citizen_services']);
    const byAgent = await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${reference}/reassign`,
      headers: agentSession.bearer,
      payload: { officialId: colleague.id },
    });
    expect(byAgent.statusCode).toBe(403);
    const boss = await logIn(http, supervisor);
    const bySupervisor = await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${reference}/reassign`,
      headers: boss.bearer,
      payload: { officialId: colleague.id },
    });
    expect(bySupervisor.statusCode, bySupervisor.body).toBe(200);
    expect(bySupervisor.json()).toMatchObject({ assignee: colleague.id });
    const wrongDept = await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${reference}/reassign`,
      headers: boss.bearer,
      payload: { officialId: outsider.id },
    });
    expect(wrongDept.statusCode).toBe(409);
    // The agent no longer holds it: answering someone else's case is refused.
    const answer = await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${reference}/replies`,
      headers: agentSession.bearer,
      payload: { text: 'hello' },
    });
    expect(answer.statusCode).toBe(403);
  });

  it('never shows the name or contact of an anonymous reporter', async () => {
    const citizen = await bot.db.Citizen.findOne({ channelUserId: 'maria' }).lean();
    const created = await createCase(bot.db, {
      kind: 'complaint',
      category: 'other',
      channel: 'test',
      lang: 'en',
      anonymous: true,
      ...(citizen ? { citizen: citizen._id } : {}),
      fields: {
        description: 'bribes at the permit office',
        name: 'Maria Lopez',
        contact: '+15550001111',
        photos: [],
      },
    });
    const res = await http.inject({
      url: `/api/v1/cases/${created.reference}`,
      headers: agentSession.bearer,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json<CaseBody>().fields).toEqual({ description: 'bribes at the permit office', photos: [] });
    expect(res.body).not.toContain('Maria Lopez');
    expect(res.body).not.toContain('+15550001111');
    expect(res.body).not.toContain('maria');
    expect(res.body).not.toContain(citizen?._id.toHexString() ?? 'no-citizen');
  });

  it('writes a chained audit event for every official action', async () => {
    const reference = await handoff('audit-user');
    await claimFor(agentSession, reference);
    await getCase(agentSession, reference);
    await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${reference}/replies`,
      headers: agentSession.bearer,
      payload: { text: 'We are on it.' },
    });
    await http.inject({
      method: 'POST',
      url: `/api/v1/cases/${reference}/resolve`,
      headers: agentSession.bearer,
      payload: { note: 'done' },
    });
    const events = await bot.db.AuditEvent.find({ caseReference: reference }).sort({ seq: 1 }).lean();
    expect(events.map((e) => e.action)).toEqual(['claimed', 'viewed', 'answered', 'resolved']);
    expect(events.every((e) => e.actor.kind === 'official' && e.actor.id === agent.id)).toBe(true);
    const all = await bot.db.AuditEvent.find().sort({ seq: 1 }).lean();
    for (let i = 1; i < all.length; i++) {
      expect(all[i]?.seq).toBe((all[i - 1]?.seq ?? 0) + 1);
      expect(all[i]?.prevHash).toBe(all[i - 1]?.hash);
    }
  });

  it('offers canned answers in the requested language', async () => {
    const fr = await http.inject({ url: '/api/v1/canned?lang=fr', headers: agentSession.bearer });
    const en = await http.inject({ url: '/api/v1/canned?lang=en', headers: agentSession.bearer });
    const frList = fr.json<{ key: string; text: string }[]>();
    expect(frList.length).toBeGreaterThan(3);
    expect(frList[0]?.text).toBe(i18n.t(`console.canned.${frList[0]?.key ?? ''}.text`, 'fr'));
    expect(frList[0]?.text).not.toBe(en.json<{ text: string }[]>()[0]?.text);
  });
});

describe('administration and documents', () => {
  it('creates the first admin once, with a generated password that logs in', async () => {
    const first = await ensureAdmin(bot.db, { email: 'root@city.test' });
    expect(first.created).toBe(true);
    const password = first.created ? (first.generatedPassword ?? '') : '';
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(await ensureAdmin(bot.db, { email: 'other@city.test', password: 'whatever-long' })).toEqual({
      created: false,
    });
    const admin = await logIn(http, { id: '', email: 'root@city.test', password });

    const created = await http.inject({
      method: 'POST',
      url: '/api/v1/officials',
      headers: admin.bearer,
      payload: { email: 'new@city.test', name: 'New Agent', departments: ['transport'], uiLang: 'ar' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { official, password: issued } = created.json<{
      official: { id: string; role: string };
      password: string;
    }>();
    expect(official.role).toBe('agent');
    expect(created.body).not.toContain('passwordHash');
    const newcomer = await logIn(http, { id: official.id, email: 'new@city.test', password: issued });
    expect((await http.inject({ url: '/api/v1/me', headers: newcomer.bearer })).json()).toMatchObject({
      uiLang: 'ar',
    });

    const byAgent = await http.inject({
      method: 'POST',
      url: '/api/v1/officials',
      headers: agentSession.bearer,
      payload: { email: 'sneaky@city.test', name: 'Sneaky' },
    });
    expect(byAgent.statusCode).toBe(403);

    const route = await http.inject({
      method: 'PUT',
      url: '/api/v1/category-routes/lighting',
      headers: admin.bearer,
      payload: { department: 'utilities' },
    });
    expect(route.statusCode).toBe(200);
    expect((await bot.db.CategoryRoute.findOne({ category: 'lighting' }).lean())?.department).toBe(
      'utilities',
    );

    const queues = await http.inject({ url: '/api/v1/queues', headers: admin.bearer });
    expect(queues.json<unknown[]>().length).toBeGreaterThanOrEqual(6);

    const disabled = await http.inject({
      method: 'PATCH',
      url: `/api/v1/officials/${official.id}`,
      headers: admin.bearer,
      payload: { active: false },
    });
    expect(disabled.statusCode).toBe(200);
    expect((await http.inject({ url: '/api/v1/me', headers: newcomer.bearer })).statusCode).toBe(401);
  });

  it('serves the OpenAPI document and the console page with a strict CSP', async () => {
    const docs = await http.inject({ url: '/api/docs' });
    expect(docs.statusCode).toBe(200);
    const doc = docs.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/api/v1/session',
      '/api/v1/queues',
      '/api/v1/cases/{reference}/replies',
      '/api/v1/cases/{reference}/resolve',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    const page = await http.inject({ url: '/console' });
    expect(page.statusCode).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers['x-frame-options']).toBeDefined();
  });
});

describe('mounted on the application', () => {
  it('lives beside the web chat in buildHttp without changing its headers', async () => {
    // createApp mounts the console on its http server (src/app.ts).
    const chat = await bot.app.http.inject({ url: '/chat' });
    const page = await bot.app.http.inject({ url: '/console' });
    expect(chat.statusCode).toBe(200);
    expect(page.statusCode).toBe(200);
    // The console's helmet and CSP are scoped to its routes: the chat keeps its own policy.
    expect(chat.headers['content-security-policy']).not.toBe(page.headers['content-security-policy']);
    const session = await logIn(bot.app.http, agent);
    const me = await bot.app.http.inject({ url: '/api/v1/me', headers: session.bearer });
    expect(me.json()).toMatchObject({ email: agent.email });
  });
});
