import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { Types } from 'mongoose';
import { z } from 'zod';
import {
  addNote,
  addTranscript,
  assign,
  awaitCitizen,
  claimCase,
  CaseError,
  claimNext,
  enqueue,
  findCase,
  release,
  reopen,
  resolve,
  transfer,
} from '../cases/index.js';
import type { Db } from '../db/connection.js';
import {
  CASE_STATUSES,
  LIVE_STATUSES,
  OFFICIAL_ROLES,
  type Actor,
  type CaseRecord,
  type CaseStatus,
  type DepartmentRecord,
  type OfficialRecord,
} from '../db/models/index.js';
import type { CaseNotifier } from '../engine/notifications.js';
import type { Translator } from '../i18n/index.js';
import { LANGS } from '../nlu/catalog.js';
import { chainedAuditWriter, type AuditWriter } from './audit.js';
import {
  authenticate,
  login,
  logout,
  principal,
  requireRole,
  revokeSessions,
  type Principal,
} from './auth.js';
import { ApiError, handleError } from './errors.js';
import { eventStream } from './events.js';
import { deadLetters } from './deadletters.js';
import { hashPassword, generatePassword, verifyPassword } from './password.js';
import { sessionModel } from './session.js';
import { consolePage } from './static.js';
import { caseDetail, caseSummary, queueView, scopeOf } from './views.js';

/** What the console and its API need from the application. */
export interface ConsoleDeps {
  db: Db;
  /** Delivers officials' answers and status changes to citizens through the outbox. */
  notifier: Pick<CaseNotifier, 'officialReply' | 'statusChanged'>;
  i18n: Translator;
  /** PUBLIC_URL: an https URL makes the session cookie Secure even behind a TLS-terminating proxy. */
  publicUrl?: string | undefined;
  /** Where official actions are recorded (default: the hash-chained `audit_events` writer). */
  audit?: AuditWriter;
  clock?: () => Date;
  /** Login attempts allowed per email and IP address in a window (default 10 per minute). */
  loginRateLimit?: { max: number; timeWindowMs: number };
  /** How often the event stream looks for changed cases (default 1000 ms). */
  eventsPollMs?: number;
  /** The outbox, so a retried dead letter is sent now rather than at the next poll. */
  outbox?: { kick(): void };
  /** WhatsApp Web's current login QR string (undefined once logged in); shown to admins. */
  whatsappQr?: () => string | undefined;
}

/** The canned answers offered in the answer box, in `console.canned.<key>` of every locale. */
export const CANNED_KEYS = [
  'acknowledge',
  'more_details',
  'location',
  'in_progress',
  'fixed',
  'referred',
] as const;

const reference = z.string().regex(/^C-[2-9A-HJKMNP-Z]{6}$/);
const departmentKey = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/)
  .max(64);
const objectId = z.string().regex(/^[0-9a-f]{24}$/);
const lang = z.enum(LANGS);
const text = z.string().trim().min(1).max(4000);
const refParams = z.object({ reference });

function officialView(o: OfficialRecord) {
  return {
    id: o._id.toHexString(),
    email: o.email,
    name: o.name,
    role: o.role,
    departments: o.departments,
    uiLang: o.uiLang,
    active: o.active,
    lockedUntil: o.lockedUntil?.toISOString() ?? null,
    lastLoginAt: o.lastLoginAt?.toISOString() ?? null,
  };
}

function meView(p: Principal) {
  return {
    id: p.id,
    email: p.email,
    name: p.name,
    role: p.role,
    departments: p.departments,
    uiLang: p.uiLang,
    csrfToken: p.csrfToken,
  };
}

const isLive = (s: CaseStatus): boolean => (LIVE_STATUSES as readonly CaseStatus[]).includes(s);

/**
 * Mounts the officials' console (`/console`), its JSON API (`/api/v1/…`) and the OpenAPI document
 * (`/api/docs`) in their own encapsulated scope, so the helmet CSP, zod validation, rate limiting and
 * error format apply to these routes only and not to the web chat or webhooks.
 *
 * @example
 * await consoleRoutes(http, { db, notifier: new CaseNotifier(engine, db, i18n), i18n, publicUrl });
 */
export async function consoleRoutes(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  await app.register(async (scope) => {
    const { db, i18n } = deps;
    const clock = deps.clock ?? (() => new Date());
    const audit = deps.audit ?? chainedAuditWriter(db, clock);
    const sessions = await sessionModel(db.connection);
    const streams = new Set<() => void>();
    scope.addHook('preClose', async () => {
      for (const end of [...streams]) end();
    });

    scope.setValidatorCompiler(validatorCompiler);
    scope.setSerializerCompiler(serializerCompiler);
    scope.setErrorHandler(handleError);
    scope.setNotFoundHandler((_req, reply) =>
      reply.code(404).send({ code: 'NOT_FOUND', message: 'No such route.' }),
    );

    if (!scope.hasDecorator('parseCookie')) await scope.register(cookie);
    await scope.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:', 'https:'],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
          objectSrc: ["'none'"],
        },
      },
      // Secure cookies and HSTS only make sense behind TLS; PUBLIC_URL tells us.
      strictTransportSecurity: deps.publicUrl?.startsWith('https:') ?? false,
    });
    const loginLimit = deps.loginRateLimit ?? { max: 10, timeWindowMs: 60_000 };
    await scope.register(rateLimit, {
      global: false,
      // preHandler: the body is parsed, so the key is email + IP, not IP alone (offices share NAT).
      hook: 'preHandler',
      keyGenerator: (req: FastifyRequest) => {
        const parsed = z.object({ email: z.string() }).safeParse(req.body);
        return `${req.ip}|${parsed.success ? parsed.data.email.trim().toLowerCase() : ''}`;
      },
    });
    await scope.register(swagger, {
      openapi: {
        info: {
          title: 'Civic chatbot — officials API',
          version: '1',
          description:
            'Case queues for officials. Authenticate with POST /api/v1/session, then send `Authorization: Bearer <token>` (or the session cookie plus `x-csrf-token` on writes).',
        },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer' },
            cookie: { type: 'apiKey', in: 'cookie', name: 'console_session' },
          },
        },
        security: [{ bearer: [] }, { cookie: [] }],
      },
      transform: jsonSchemaTransform,
    });

    const api = scope.withTypeProvider<ZodTypeProvider>();
    const auth = authenticate(db, sessions, clock);
    const actor = (p: Principal): Actor => ({ kind: 'official', id: p.id });

    /** The case if the official's departments include it: another department's case is a 404, not a 403. */
    async function visibleCase(p: Principal, ref: string): Promise<CaseRecord> {
      const found = await findCase(db, ref);
      if (found === null || !(await scopeOf(db, p)).includes(found.department)) {
        throw new CaseError('CASE_NOT_FOUND', ref);
      }
      return found;
    }

    api.get('/api/docs', { schema: { hide: true } }, async () => scope.swagger());
    consolePage(scope, LANGS);

    api.post(
      '/api/v1/session',
      {
        schema: {
          tags: ['session'],
          security: [],
          body: z.object({ email: z.string().trim().max(254), password: z.string().max(1024) }),
        },
        config: { rateLimit: { max: loginLimit.max, timeWindow: loginLimit.timeWindowMs } },
      },
      async (req, reply) => {
        const opened = await login({ db, sessions, clock, publicUrl: deps.publicUrl }, req, reply, req.body);
        return {
          token: opened.token,
          csrfToken: opened.csrfToken,
          expiresAt: opened.expiresAt.toISOString(),
          official: officialView(opened.official),
        };
      },
    );

    api.delete('/api/v1/session', { schema: { tags: ['session'] }, preHandler: auth }, async (req, reply) => {
      await logout(sessions, req, reply);
      return reply.code(204).send();
    });

    api.get('/api/v1/me', { schema: { tags: ['session'] }, preHandler: auth }, async (req) =>
      meView(principal(req)),
    );

    api.patch(
      '/api/v1/me',
      { schema: { tags: ['session'], body: z.object({ uiLang: lang }) }, preHandler: auth },
      async (req) => {
        const p = principal(req);
        await db.Official.updateOne({ _id: p._id }, { $set: { uiLang: req.body.uiLang } });
        return meView({ ...p, uiLang: req.body.uiLang });
      },
    );

    api.post(
      '/api/v1/me/password',
      {
        schema: {
          tags: ['session'],
          body: z.object({ current: z.string().max(1024), next: z.string().min(10).max(1024) }),
        },
        // Guessing the current password from a stolen session is throttled like logging in.
        config: { rateLimit: { max: loginLimit.max, timeWindow: loginLimit.timeWindowMs } },
        preHandler: auth,
      },
      async (req, reply) => {
        const p = principal(req);
        const stored = await db.Official.findById(p._id).select({ passwordHash: 1 }).lean();
        if (stored === null || !(await verifyPassword(req.body.current, stored.passwordHash))) {
          throw new ApiError('WRONG_PASSWORD');
        }
        if (req.body.next === req.body.current) throw new ApiError('SAME_PASSWORD');
        await db.Official.updateOne(
          { _id: p._id },
          { $set: { passwordHash: await hashPassword(req.body.next) } },
        );
        // Whoever else held a session (a shared or stolen device) is logged out; this one stays.
        await revokeSessions(sessions, p._id, p.sessionId);
        await audit({ actor: actor(p), action: 'password_changed' });
        return reply.code(204).send();
      },
    );

    api.get('/api/v1/queues', { schema: { tags: ['queues'] }, preHandler: auth }, async (req) => {
      const p = principal(req);
      const now = clock();
      return Promise.all((await scopeOf(db, p)).map((d) => queueView(db, d, p.id, now)));
    });

    api.post(
      '/api/v1/queues/:department/claim',
      { schema: { tags: ['queues'], params: z.object({ department: departmentKey }) }, preHandler: auth },
      async (req, reply) => {
        const p = principal(req);
        if (!(await scopeOf(db, p)).includes(req.params.department)) throw new ApiError('NOT_FOUND');
        const claimed = await claimNext(db, req.params.department, p.id, clock());
        if (claimed === null) return reply.code(204).send();
        await audit({
          actor: actor(p),
          action: 'claimed',
          caseReference: claimed.reference,
          details: { department: claimed.department },
        });
        return caseDetail(db, claimed, clock());
      },
    );

    api.get(
      '/api/v1/cases',
      {
        schema: {
          tags: ['cases'],
          querystring: z.object({
            department: departmentKey.optional(),
            status: z.enum(CASE_STATUSES).optional(),
            mine: z.enum(['1', 'true']).optional(),
            overdue: z.enum(['1', 'true']).optional(),
            limit: z.coerce.number().int().min(1).max(200).default(100),
          }),
        },
        preHandler: auth,
      },
      async (req) => {
        const p = principal(req);
        const visible = await scopeOf(db, p);
        const { department, status, mine, overdue, limit } = req.query;
        const departments = department === undefined ? visible : visible.filter((d) => d === department);
        const now = clock();
        const found = await db.Case.find({
          department: { $in: departments },
          status: status ?? { $in: LIVE_STATUSES },
          ...(mine ? { assignee: p.id } : {}),
          // As the SLA sweep sees it: waiting on the citizen pauses the clock.
          ...(overdue
            ? { $or: [{ overdue: true }, { status: { $in: ['open', 'assigned'] }, slaDueAt: { $lte: now } }] }
            : {}),
        })
          .select({ transcript: 0, notes: 0, history: 0, fields: 0 })
          .sort({ priority: -1, createdAt: 1 })
          .limit(limit)
          .lean<CaseRecord[]>();
        return found.map((c) => caseSummary(c, now));
      },
    );

    api.get(
      '/api/v1/cases/:reference',
      { schema: { tags: ['cases'], params: refParams }, preHandler: auth },
      async (req) => {
        const p = principal(req);
        const found = await visibleCase(p, req.params.reference);
        await audit({ actor: actor(p), action: 'viewed', caseReference: found.reference });
        return caseDetail(db, found, clock());
      },
    );

    api.post(
      '/api/v1/cases/:reference/claim',
      { schema: { tags: ['cases'], params: refParams }, preHandler: auth },
      async (req) => {
        const p = principal(req);
        await visibleCase(p, req.params.reference);
        const claimed = await claimCase(db, req.params.reference, p.id, clock());
        await audit({ actor: actor(p), action: 'claimed', caseReference: claimed.reference });
        return caseDetail(db, claimed, clock());
      },
    );

    api.post(
      '/api/v1/cases/:reference/replies',
      { schema: { tags: ['cases'], params: refParams, body: z.object({ text }) }, preHandler: auth },
      async (req, reply) => {
        const p = principal(req);
        let current = await visibleCase(p, req.params.reference);
        if (!isLive(current.status)) throw new CaseError('CASE_RESOLVED', current.reference);
        if (current.status === 'open') current = await claimCase(db, current.reference, p.id, clock());
        else if (current.assignee !== p.id && p.role === 'agent') throw new ApiError('NOT_ASSIGNEE');
        const key = `console:reply:${current.reference}:${randomUUID()}`;
        if (!(await deps.notifier.officialReply(current.reference, req.body.text, key))) {
          throw new ApiError('CITIZEN_UNREACHABLE');
        }
        const outbound = await db.OutboundMessage.findOne({ idempotencyKey: `${key}:0` })
          .select({ _id: 1 })
          .lean();
        const updated = await addTranscript(
          db,
          current.reference,
          {
            from: 'official',
            text: req.body.text,
            officialId: p.id,
            ...(outbound ? { outboxId: outbound._id } : {}),
          },
          clock(),
        );
        await audit({ actor: actor(p), action: 'answered', caseReference: current.reference });
        return reply.code(201).send(await caseDetail(db, updated, clock()));
      },
    );

    api.post(
      '/api/v1/cases/:reference/notes',
      { schema: { tags: ['cases'], params: refParams, body: z.object({ text }) }, preHandler: auth },
      async (req, reply) => {
        const p = principal(req);
        await visibleCase(p, req.params.reference);
        const updated = await addNote(db, req.params.reference, p.id, req.body.text, clock());
        await audit({ actor: actor(p), action: 'noted', caseReference: updated.reference });
        return reply.code(201).send(await caseDetail(db, updated, clock()));
      },
    );

    api.post(
      '/api/v1/cases/:reference/transfer',
      {
        schema: { tags: ['cases'], params: refParams, body: z.object({ department: departmentKey }) },
        preHandler: auth,
      },
      async (req) => {
        const p = principal(req);
        const before = await visibleCase(p, req.params.reference);
        const updated = await transfer(db, before.reference, req.body.department, actor(p), clock());
        await audit({
          actor: actor(p),
          action: 'transferred',
          caseReference: updated.reference,
          details: { from: before.department, to: updated.department },
        });
        // After a transfer out of the official's departments the case is no longer theirs to see.
        return (await scopeOf(db, p)).includes(updated.department)
          ? caseDetail(db, updated, clock())
          : caseSummary(updated, clock());
      },
    );

    api.post(
      '/api/v1/cases/:reference/resolve',
      { schema: { tags: ['cases'], params: refParams, body: z.object({ note: text }) }, preHandler: auth },
      async (req) => {
        const p = principal(req);
        const before = await visibleCase(p, req.params.reference);
        if (
          isLive(before.status) &&
          before.assignee !== undefined &&
          before.assignee !== p.id &&
          p.role === 'agent'
        ) {
          throw new ApiError('NOT_ASSIGNEE');
        }
        const updated = await resolve(db, before.reference, req.body.note, actor(p), clock());
        const at = updated.resolvedAt?.getTime() ?? clock().getTime();
        await deps.notifier.statusChanged(
          updated.reference,
          'resolved',
          `console:resolved:${updated.reference}:${at}`,
          req.body.note,
        );
        await audit({ actor: actor(p), action: 'resolved', caseReference: updated.reference });
        return caseDetail(db, updated, clock());
      },
    );

    api.post(
      '/api/v1/cases/:reference/reopen',
      { schema: { tags: ['cases'], params: refParams }, preHandler: auth },
      async (req) => {
        const p = principal(req);
        await visibleCase(p, req.params.reference);
        const updated = await reopen(db, req.params.reference, actor(p), clock());
        await audit({ actor: actor(p), action: 'reopened', caseReference: updated.reference });
        return caseDetail(db, updated, clock());
      },
    );

    /** Agents act on their own cases only; supervisors and admins on any case they can see. */
    function assertMayHandle(p: Principal, c: CaseRecord): void {
      if (c.status === 'open') throw new CaseError('CASE_NOT_ASSIGNED', c.reference);
      if (c.assignee !== p.id && p.role === 'agent') throw new ApiError('NOT_ASSIGNEE');
    }

    api.post(
      '/api/v1/cases/:reference/release',
      {
        schema: {
          tags: ['cases'],
          params: refParams,
          description:
            'Puts an assigned case back in its queue (open, unassigned). Agents release their own cases; supervisors and admins any case of their departments.',
        },
        preHandler: auth,
      },
      async (req) => {
        const p = principal(req);
        const current = await visibleCase(p, req.params.reference);
        if (!isLive(current.status)) throw new CaseError('CASE_RESOLVED', current.reference);
        assertMayHandle(p, current);
        const updated =
          current.assignee === p.id
            ? await release(db, current.reference, p.id, clock())
            : await enqueue(db, current.reference, actor(p), clock());
        await audit({
          actor: actor(p),
          action: 'released',
          caseReference: updated.reference,
          ...(current.assignee !== undefined ? { details: { from: current.assignee } } : {}),
        });
        return caseDetail(db, updated, clock());
      },
    );

    api.post(
      '/api/v1/cases/:reference/wait',
      {
        schema: {
          tags: ['cases'],
          params: refParams,
          description:
            'Marks an assigned case as waiting on the citizen, which pauses its SLA; the citizen’s next message makes it assigned again.',
        },
        preHandler: auth,
      },
      async (req) => {
        const p = principal(req);
        const current = await visibleCase(p, req.params.reference);
        if (!isLive(current.status)) throw new CaseError('CASE_RESOLVED', current.reference);
        assertMayHandle(p, current);
        const updated = await awaitCitizen(db, current.reference, actor(p), clock());
        await audit({ actor: actor(p), action: 'awaiting_citizen', caseReference: updated.reference });
        return caseDetail(db, updated, clock());
      },
    );

    api.post(
      '/api/v1/cases/:reference/reassign',
      {
        schema: { tags: ['cases'], params: refParams, body: z.object({ officialId: objectId }) },
        preHandler: [auth, requireRole('supervisor', 'admin')],
      },
      async (req) => {
        const p = principal(req);
        const current = await visibleCase(p, req.params.reference);
        const target = await db.Official.findOne({
          _id: req.body.officialId,
          active: true,
        }).lean<OfficialRecord>();
        if (target === null) throw new ApiError('OFFICIAL_NOT_FOUND');
        if (target.role !== 'admin' && !target.departments.includes(current.department)) {
          throw new ApiError('OFFICIAL_NOT_IN_DEPARTMENT');
        }
        const updated = await assign(db, current.reference, req.body.officialId, actor(p), clock());
        await audit({
          actor: actor(p),
          action: 'reassigned',
          caseReference: updated.reference,
          details: { to: req.body.officialId },
        });
        return caseDetail(db, updated, clock());
      },
    );

    api.get(
      '/api/v1/canned',
      { schema: { tags: ['cases'], querystring: z.object({ lang: lang.default('en') }) }, preHandler: auth },
      async (req) =>
        CANNED_KEYS.map((key) => ({
          key,
          title: i18n.t(`console.canned.${key}.title`, req.query.lang),
          text: i18n.t(`console.canned.${key}.text`, req.query.lang),
        })),
    );

    api.get(
      '/api/v1/events',
      { schema: { tags: ['events'], hide: true }, preHandler: auth },
      eventStream(db, clock, deps.eventsPollMs ?? 1000, streams),
    );

    // ---- Departments, officials and routing (admin; reading departments is for everyone). ----

    api.get('/api/v1/departments', { schema: { tags: ['admin'] }, preHandler: auth }, async () =>
      (await db.Department.find().sort({ key: 1 }).lean<DepartmentRecord[]>()).map((d) => ({
        key: d.key,
        slaHours: d.slaHours,
        names: d.names ?? {},
      })),
    );

    api.post(
      '/api/v1/departments',
      {
        schema: {
          tags: ['admin'],
          body: z.object({
            key: departmentKey,
            slaHours: z
              .number()
              .min(0)
              .max(24 * 365),
            /** Display names per language; a language left out shows the name from locales/, or the key. */
            names: z.partialRecord(lang, z.string().trim().min(1).max(80)).optional(),
          }),
        },
        preHandler: [auth, requireRole('admin')],
      },
      async (req, reply) => {
        const p = principal(req);
        const names = req.body.names ?? {};
        await db.Department.updateOne(
          { key: req.body.key },
          { $set: { slaHours: req.body.slaHours, names } },
          { upsert: true, runValidators: true },
        );
        await audit({
          actor: actor(p),
          action: 'department_saved',
          details: { key: req.body.key, slaHours: req.body.slaHours, names },
        });
        return reply.code(201).send({ key: req.body.key, slaHours: req.body.slaHours, names });
      },
    );

    api.get(
      '/api/v1/officials',
      { schema: { tags: ['admin'] }, preHandler: [auth, requireRole('supervisor', 'admin')] },
      async (req) => {
        const p = principal(req);
        const filter = p.role === 'admin' ? {} : { departments: { $in: p.departments } };
        return (await db.Official.find(filter).sort({ email: 1 }).lean<OfficialRecord[]>()).map(officialView);
      },
    );

    const officialBody = z.object({
      email: z.email().max(254),
      name: z.string().trim().min(1).max(200),
      role: z.enum(OFFICIAL_ROLES).default('agent'),
      departments: z.array(departmentKey).default([]),
      uiLang: lang.default('en'),
      password: z.string().min(10).max(1024).optional(),
    });

    api.post(
      '/api/v1/officials',
      { schema: { tags: ['admin'], body: officialBody }, preHandler: [auth, requireRole('admin')] },
      async (req, reply) => {
        const p = principal(req);
        const { password, ...fields } = req.body;
        const email = fields.email.toLowerCase();
        if ((await db.Official.exists({ email })) !== null) throw new ApiError('EMAIL_TAKEN');
        const generated = password === undefined ? generatePassword() : undefined;
        const created = await db.Official.create({
          ...fields,
          email,
          passwordHash: await hashPassword(password ?? generated ?? ''),
        });
        await audit({
          actor: actor(p),
          action: 'official_created',
          details: { official: created._id.toHexString(), role: fields.role },
        });
        return reply.code(201).send({
          official: officialView(created.toObject<OfficialRecord>()),
          ...(generated !== undefined ? { password: generated } : {}),
        });
      },
    );

    api.patch(
      '/api/v1/officials/:id',
      {
        schema: {
          tags: ['admin'],
          params: z.object({ id: objectId }),
          body: officialBody
            .omit({ email: true })
            .partial()
            .extend({ active: z.boolean().optional(), unlock: z.boolean().optional() }),
        },
        preHandler: [auth, requireRole('admin')],
      },
      async (req) => {
        const p = principal(req);
        const { password, unlock, ...fields } = req.body;
        const update = {
          $set: {
            ...fields,
            ...(password !== undefined ? { passwordHash: await hashPassword(password) } : {}),
            ...(unlock ? { failedLogins: 0 } : {}),
          },
          ...(unlock ? { $unset: { lockedUntil: 1 } } : {}),
        };
        const updated = await db.Official.findOneAndUpdate({ _id: req.params.id }, update, {
          returnDocument: 'after',
          runValidators: true,
        }).lean<OfficialRecord>();
        if (updated === null) throw new ApiError('OFFICIAL_NOT_FOUND');
        if (password !== undefined || fields.active === false) await revokeSessions(sessions, updated._id);
        await audit({
          actor: actor(p),
          action: 'official_updated',
          details: { official: req.params.id, fields: Object.keys(req.body) },
        });
        return officialView(updated);
      },
    );

    api.get('/api/v1/category-routes', { schema: { tags: ['admin'] }, preHandler: auth }, async () =>
      (await db.CategoryRoute.find().sort({ category: 1 }).lean()).map((r) => ({
        category: r.category,
        department: r.department,
      })),
    );

    api.put(
      '/api/v1/category-routes/:category',
      {
        schema: {
          tags: ['admin'],
          params: z.object({ category: departmentKey }),
          body: z.object({ department: departmentKey }),
        },
        preHandler: [auth, requireRole('admin')],
      },
      async (req) => {
        const p = principal(req);
        if ((await db.Department.exists({ key: req.body.department })) === null)
          throw new ApiError('NOT_FOUND');
        await db.CategoryRoute.updateOne(
          { category: req.params.category },
          { $set: { department: req.body.department } },
          { upsert: true },
        );
        await audit({
          actor: actor(p),
          action: 'route_saved',
          details: { category: req.params.category, department: req.body.department },
        });
        return { category: req.params.category, department: req.body.department };
      },
    );

    // ---- Dead letters: answers and notices the outbox gave up delivering. ----

    api.get(
      '/api/v1/dead-letters',
      {
        schema: {
          tags: ['cases'],
          description:
            "Messages to citizens that could not be delivered, for cases of the official's departments, newest first.",
          querystring: z.object({
            reference: reference.optional(),
            limit: z.coerce.number().int().min(1).max(200).default(100),
          }),
        },
        preHandler: auth,
      },
      async (req) =>
        deadLetters(db, await scopeOf(db, principal(req)), {
          reference: req.query.reference,
          limit: req.query.limit,
        }),
    );

    api.post(
      '/api/v1/dead-letters/:id/retry',
      {
        schema: {
          tags: ['cases'],
          description: 'Puts a dead message back to pending: the outbox sends it again, in order.',
          params: z.object({ id: objectId }),
        },
        preHandler: auth,
      },
      async (req) => {
        const p = principal(req);
        const id = new Types.ObjectId(req.params.id);
        const [found] = await deadLetters(db, await scopeOf(db, p), { id, limit: 1 });
        if (found === undefined) throw new ApiError('DEAD_LETTER_NOT_FOUND');
        const revived = await db.OutboundMessage.updateOne(
          { _id: id, status: 'dead' },
          {
            $set: { status: 'pending', attempts: 0, nextAttemptAt: clock() },
            $unset: { lease: 1, lastError: 1 },
          },
        );
        if (revived.modifiedCount === 0) throw new ApiError('DEAD_LETTER_NOT_FOUND');
        await audit({
          actor: actor(p),
          action: 'dead_letter_retried',
          caseReference: found.caseReference,
          details: { message: found.id },
        });
        deps.outbox?.kick();
        return { ...found, status: 'pending' as const };
      },
    );

    // ---- WhatsApp Web login (admins) ----

    api.get(
      '/api/v1/whatsapp/qr',
      {
        schema: {
          tags: ['admin'],
          description:
            'The WhatsApp Web login QR string while the channel waits for a scan; `configured` is false when WhatsApp Web is not in use.',
        },
        preHandler: [auth, requireRole('admin')],
      },
      async () => {
        const qr = deps.whatsappQr?.();
        return { configured: deps.whatsappQr !== undefined, qr: qr ?? null };
      },
    );
  });
}
