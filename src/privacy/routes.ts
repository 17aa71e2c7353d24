import cookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { chainedAuditWriter, type AuditWriter } from '../console/audit.js';
import { authenticate, principal, requireRole } from '../console/auth.js';
import { handleError } from '../console/errors.js';
import { sessionModel } from '../console/session.js';
import { scopeOf } from '../console/views.js';
import type { Db } from '../db/connection.js';
import { eraseCaseData, eraseCitizenData, type ErasureReport } from './erase.js';

/** What {@link privacyRoutes} needs. */
export interface PrivacyRoutesDeps {
  db: Db;
  /** Where erasures are recorded (default: the hash-chained audit log, as the console's). */
  audit?: AuditWriter;
  clock?: () => Date;
}

/** The body of `POST /api/v1/privacy/erasures`: the citizen's channel identity, or one of their cases. */
export const erasureRequestSchema = z.union([
  z.object({
    channel: z
      .string()
      .regex(/^[a-z][a-z0-9_-]*$/)
      .max(32),
    channelUserId: z.string().min(1).max(256),
  }),
  z.object({ reference: z.string().regex(/^C-[2-9A-HJKMNP-Z]{6}$/) }),
]);

const NOT_FOUND = {
  code: 'CITIZEN_NOT_FOUND',
  message: 'No citizen with this channel identity, and no case with this reference, in your departments.',
} as const;

/**
 * Mounts `POST /api/v1/privacy/erasures` for officials handling a citizen's written erasure request
 * (admins, and supervisors for cases of their departments), behind the console's own session check
 * (Bearer token, or cookie + CSRF token). With `{channel, channelUserId}` every trace of that identity
 * is erased; with `{reference}` the citizen who filed the case is erased (or, if they already were,
 * what is left of the case). Answers 200 with counts of what was erased (zeros when it was already
 * erased), 404 when nothing matches. The erasure is audited with the official as actor.
 *
 * @example
 * await privacyRoutes(http, { db });
 */
export async function privacyRoutes(app: FastifyInstance, deps: PrivacyRoutesDeps): Promise<void> {
  await app.register(async (scope) => {
    const { db } = deps;
    const clock = deps.clock ?? (() => new Date());
    const audit = deps.audit ?? chainedAuditWriter(db, clock);
    const sessions = await sessionModel(db.connection);
    scope.setValidatorCompiler(validatorCompiler);
    scope.setSerializerCompiler(serializerCompiler);
    scope.setErrorHandler(handleError);
    if (!scope.hasDecorator('parseCookie')) await scope.register(cookie);
    const auth = authenticate(db, sessions, clock);

    scope.withTypeProvider<ZodTypeProvider>().post(
      '/api/v1/privacy/erasures',
      {
        schema: { tags: ['privacy'], body: erasureRequestSchema },
        preHandler: [auth, requireRole('supervisor', 'admin')],
      },
      async (req, reply) => {
        const p = principal(req);
        const by = { kind: 'official', id: p.id } as const;
        const options = { by, reason: 'request', audit, now: clock() } as const;
        let report: ErasureReport;
        if ('reference' in req.body) {
          const found = await db.Case.findOne({ reference: req.body.reference })
            .select({ _id: 1, citizen: 1, department: 1 })
            .lean();
          if (found === null || !(await scopeOf(db, p)).includes(found.department)) {
            return reply.code(404).send(NOT_FOUND);
          }
          report =
            found.citizen !== undefined
              ? await eraseCitizenData(db, found.citizen, options)
              : await eraseCaseData(db, [found._id], options);
        } else {
          const citizen = await db.Citizen.findOne({
            channel: req.body.channel,
            channelUserId: req.body.channelUserId,
          })
            .select({ _id: 1 })
            .lean();
          if (citizen === null) return reply.code(404).send(NOT_FOUND);
          report = await eraseCitizenData(db, citizen._id, options);
        }
        return reply.code(200).send({ erased: report });
      },
    );
  });
}
