import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCase } from '../../src/cases/index.js';
import { SESSION_IDLE_MS, SESSION_MAX_MS } from '../../src/console/session.js';
import { conversationKey } from '../../src/engine/activity.js';
import { startTestBot, type TestBot } from '../helpers/bot.js';
import { addOfficial, consoleApp, logIn, type Account, type LoggedIn } from './harness.js';

interface CaseBody {
  reference: string;
  status: string;
  assignee: string | null;
}
interface DeadLetter {
  id: string;
  caseReference: string;
  text: string | null;
  department: string;
}

let bot: TestBot;
let http: FastifyInstance;
let agent: Account;
let colleague: Account;
let outsider: Account;
let supervisor: Account;
let admin: Account;
let agentSession: LoggedIn;
let colleagueSession: LoggedIn;
let outsiderSession: LoggedIn;
let bossSession: LoggedIn;
let adminSession: LoggedIn;
let qr: string | undefined = 'wa-login-qr-string';

beforeAll(async () => {
  bot = await startTestBot();
  http = await consoleApp(bot, { outbox: bot.app.outbox, whatsappQr: () => qr });
  [agent, colleague, outsider, supervisor, admin] = await Promise.all([
    addOfficial(bot.db, 'agent@city.test', 'agent', ['citizen_services']),
    addOfficial(bot.db, 'colleague@city.test', 'agent', ['citizen_services']),
    addOfficial(bot.db, 'roads@city.test', 'agent', ['public_works']),
    addOfficial(bot.db, 'boss@city.test', 'supervisor', ['citizen_services']),
    addOfficial(bot.db, 'root@city.test', 'admin', []),
  ]);
  [agentSession, colleagueSession, outsiderSession, bossSession, adminSession] = await Promise.all([
    logIn(http, agent),
    logIn(http, colleague),
    logIn(http, outsider),
    logIn(http, supervisor),
    logIn(http, admin),
  ]);
});
afterAll(async () => {
  await http?.close();
  await bot?.stop();
});

async function newCase(): Promise<string> {
  const created = await createCase(bot.db, {
    kind: 'handoff',
    category: 'public_services',
    channel: 'test',
    lang: 'en',
    fields: { description: 'help with my permit' },
  });
  return created.reference;
}

function post(session: LoggedIn, url: string, payload?: object) {
  return http.inject({ method: 'POST', url, headers: session.bearer, ...(payload ? { payload } : {}) });
}

describe('release and wait', () => {
  it('lets the assignee set a case waiting on the citizen (SLA paused) and release it to the queue', async () => {
    const reference = await newCase();
    expect((await post(agentSession, `/api/v1/cases/${reference}/claim`)).statusCode).toBe(200);

    // Only the assignee (or a supervisor) acts on an assigned case; other departments do not see it.
    expect((await post(colleagueSession, `/api/v1/cases/${reference}/wait`)).json()).toMatchObject({
      code: 'NOT_ASSIGNEE',
    });
    expect((await post(colleagueSession, `/api/v1/cases/${reference}/release`)).statusCode).toBe(403);
    expect((await post(outsiderSession, `/api/v1/cases/${reference}/release`)).statusCode).toBe(404);

    const waiting = await post(agentSession, `/api/v1/cases/${reference}/wait`);
    expect(waiting.statusCode, waiting.body).toBe(200);
    expect(waiting.json()).toMatchObject({ status: 'waiting_on_citizen', assignee: agent.id });

    const released = await post(agentSession, `/api/v1/cases/${reference}/release`);
    expect(released.json<CaseBody>()).toMatchObject({ status: 'open', assignee: null });
    // An open case has nothing to release or to wait on.
    const again = await post(agentSession, `/api/v1/cases/${reference}/release`);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'CASE_NOT_ASSIGNED' });
    expect((await post(agentSession, `/api/v1/cases/${reference}/wait`)).statusCode).toBe(409);

    const actions = (await bot.db.AuditEvent.find({ caseReference: reference }).sort({ seq: 1 }).lean()).map(
      (e) => e.action,
    );
    expect(actions).toEqual(['claimed', 'awaiting_citizen', 'released']);
  });

  it("lets a supervisor put an agent's case back in the queue", async () => {
    const reference = await newCase();
    await post(agentSession, `/api/v1/cases/${reference}/claim`);
    const released = await post(bossSession, `/api/v1/cases/${reference}/release`);
    expect(released.statusCode, released.body).toBe(200);
    expect(released.json()).toMatchObject({ status: 'open', assignee: null });
    // The colleague can now claim it from the queue.
    expect((await post(colleagueSession, `/api/v1/cases/${reference}/claim`)).json()).toMatchObject({
      assignee: colleague.id,
    });
  });

  it('lists overdue cases for a supervisor, without the waiting-on-citizen ones', async () => {
    const late = await newCase();
    const paused = await newCase();
    const fresh = await newCase();
    const past = new Date(Date.now() - 3_600_000);
    await bot.db.Case.updateMany({ reference: { $in: [late, paused] } }, { $set: { slaDueAt: past } });
    await bot.db.Case.updateOne(
      { reference: paused },
      { $set: { status: 'waiting_on_citizen', assignee: agent.id } },
    );
    const res = await http.inject({ url: '/api/v1/cases?overdue=1', headers: bossSession.bearer });
    const refs = res.json<{ reference: string; sla: string }[]>().map((c) => c.reference);
    expect(refs).toContain(late);
    expect(refs).not.toContain(paused);
    expect(refs).not.toContain(fresh);
  });
});

describe('dead letters', () => {
  async function deadLetterFor(reference: string, chatId: string, text: string): Promise<string> {
    const address = { channel: 'test', userId: chatId, chatId };
    const created = await bot.db.OutboundMessage.create({
      channel: 'test',
      conversationKey: conversationKey(address),
      address,
      reply: { kind: 'text', text },
      status: 'dead',
      attempts: 8,
      idempotencyKey: `dead:${reference}`,
      seq: 1,
      caseReference: reference,
      lastError: 'platform said no',
    });
    return created._id.toHexString();
  }

  it("shows a case's undelivered answers to its department only, and a retry delivers it", async () => {
    const reference = await newCase();
    const id = await deadLetterFor(reference, 'dead-chat', 'Your permit is ready at counter 3.');

    const mine = await http.inject({ url: '/api/v1/dead-letters', headers: agentSession.bearer });
    expect(mine.json<DeadLetter[]>()).toContainEqual(
      expect.objectContaining({
        id,
        caseReference: reference,
        department: 'citizen_services',
        text: 'Your permit is ready at counter 3.',
      }),
    );
    expect(mine.body).not.toContain('dead-chat'); // never the citizen's platform address
    const perCase = await http.inject({
      url: `/api/v1/dead-letters?reference=${reference}`,
      headers: agentSession.bearer,
    });
    expect(perCase.json<DeadLetter[]>().map((d) => d.id)).toEqual([id]);

    // Another department neither sees nor retries it.
    const theirs = await http.inject({ url: '/api/v1/dead-letters', headers: outsiderSession.bearer });
    expect(theirs.json<DeadLetter[]>().map((d) => d.id)).not.toContain(id);
    const refused = await post(outsiderSession, `/api/v1/dead-letters/${id}/retry`);
    expect(refused.statusCode).toBe(404);
    expect(refused.json()).toMatchObject({ code: 'DEAD_LETTER_NOT_FOUND' });

    const retried = await post(agentSession, `/api/v1/dead-letters/${id}/retry`);
    expect(retried.statusCode, retried.body).toBe(200);
    await bot.collector.waitFor(() =>
      bot.collector.repliesTo('dead-chat').some((r) => r.kind === 'text' && r.text.includes('counter 3')),
    );
    await bot.settle();
    expect((await bot.db.OutboundMessage.findById(id).lean())?.status).toBe('sent');
    expect((await post(agentSession, `/api/v1/dead-letters/${id}/retry`)).statusCode).toBe(404);
    const audit = await bot.db.AuditEvent.findOne({ action: 'dead_letter_retried' }).lean();
    expect(audit).toMatchObject({ caseReference: reference, actor: { kind: 'official', id: agent.id } });
  });
});

describe('account', () => {
  it('changes the password: the wrong current one is refused, other sessions end, this one stays', async () => {
    const me = await addOfficial(bot.db, 'changer@city.test', 'agent', ['utilities']);
    const here = await logIn(http, me);
    const elsewhere = await logIn(http, me);
    const wrong = await post(here, '/api/v1/me/password', {
      current: 'not it at all',
      next: 'a-new-long-secret',
    });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json()).toMatchObject({ code: 'WRONG_PASSWORD' });
    const tooShort = await post(here, '/api/v1/me/password', { current: me.password, next: 'short' });
    expect(tooShort.statusCode).toBe(400);

    const changed = await post(here, '/api/v1/me/password', {
      current: me.password,
      next: 'a-new-long-secret',
    });
    expect(changed.statusCode, changed.body).toBe(204);
    expect((await http.inject({ url: '/api/v1/me', headers: here.bearer })).statusCode).toBe(200);
    expect((await http.inject({ url: '/api/v1/me', headers: elsewhere.bearer })).statusCode).toBe(401);
    const old = await http.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: me.email, password: me.password },
    });
    expect(old.statusCode).toBe(401);
    await logIn(http, { ...me, password: 'a-new-long-secret' });
  });

  it('keeps an active session alive past the idle limit, ends an idle one, and caps any at 12 hours', async () => {
    const start = Date.now();
    let now = start;
    const timed = await consoleApp(bot, { clock: () => new Date(now) });
    try {
      const me = (s: LoggedIn) => timed.inject({ url: '/api/v1/me', headers: s.bearer });
      const active = await logIn(timed, agent);
      const idle = await logIn(timed, agent);
      const step = SESSION_IDLE_MS * 0.75;
      now += step;
      expect((await me(active)).statusCode).toBe(200);
      now += step; // 1.5 × the idle limit after login, but active a moment ago
      expect((await me(active)).statusCode).toBe(200);
      expect((await me(idle)).statusCode).toBe(401);
      while (now + step < start + SESSION_MAX_MS) {
        now += step;
        expect((await me(active)).statusCode).toBe(200);
      }
      now += step;
      expect((await me(active)).statusCode).toBe(401);
    } finally {
      await timed.close();
    }
  });
});

describe('administration', () => {
  it('keeps admin endpoints from agents (403) and supervisors where they only read', async () => {
    const attempts = [
      { method: 'POST' as const, url: '/api/v1/departments', payload: { key: 'parks', slaHours: 24 } },
      { method: 'POST' as const, url: '/api/v1/officials', payload: { email: 'x@city.test', name: 'X' } },
      { method: 'PATCH' as const, url: `/api/v1/officials/${agent.id}`, payload: { role: 'admin' } },
      { method: 'PUT' as const, url: '/api/v1/category-routes/roads', payload: { department: 'utilities' } },
      { method: 'GET' as const, url: '/api/v1/whatsapp/qr' },
    ];
    for (const session of [agentSession, bossSession]) {
      for (const a of attempts) {
        const res = await http.inject({ ...a, headers: session.bearer });
        expect(res.statusCode, `${a.method} ${a.url}`).toBe(403);
      }
    }
    expect((await http.inject({ url: '/api/v1/officials', headers: agentSession.bearer })).statusCode).toBe(
      403,
    );
    // A supervisor sees the officials of their departments, to reassign.
    const team = await http.inject({ url: '/api/v1/officials', headers: bossSession.bearer });
    const emails = team.json<{ email: string }[]>().map((o) => o.email);
    expect(emails).toContain(colleague.email);
    expect(emails).not.toContain(outsider.email);
    expect((await bot.db.Official.findById(agent.id).lean())?.role).toBe('agent');
  });

  it('saves a department with its names per language and SLA hours', async () => {
    const saved = await post(adminSession, '/api/v1/departments', {
      key: 'parks',
      slaHours: 36,
      names: { en: 'Parks', fr: 'Parcs' },
    });
    expect(saved.statusCode, saved.body).toBe(201);
    const list = await http.inject({ url: '/api/v1/departments', headers: agentSession.bearer });
    expect(list.json()).toContainEqual({ key: 'parks', slaHours: 36, names: { en: 'Parks', fr: 'Parcs' } });
    const bad = await post(adminSession, '/api/v1/departments', {
      key: 'parks',
      slaHours: 1,
      names: { de: 'x' },
    });
    expect(bad.statusCode).toBe(400);
  });

  it('shows the WhatsApp Web login QR to admins while it waits for a scan', async () => {
    const res = await http.inject({ url: '/api/v1/whatsapp/qr', headers: adminSession.bearer });
    expect(res.json()).toEqual({ configured: true, qr: 'wa-login-qr-string' });
    qr = undefined;
    const linked = await http.inject({ url: '/api/v1/whatsapp/qr', headers: adminSession.bearer });
    expect(linked.json()).toEqual({ configured: true, qr: null });
  });

  it('describes the new endpoints in the OpenAPI document', async () => {
    const doc = (await http.inject({ url: '/api/docs' })).json<{ paths: Record<string, unknown> }>();
    for (const path of [
      '/api/v1/cases/{reference}/release',
      '/api/v1/cases/{reference}/wait',
      '/api/v1/dead-letters',
      '/api/v1/dead-letters/{id}/retry',
      '/api/v1/me/password',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
  });
});
