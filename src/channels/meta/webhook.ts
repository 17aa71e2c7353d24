import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { activitySchema, type Activity } from '../../engine/activity.js';
import { safeEqualText, verifySignature } from './signature.js';

export interface MetaWebhookOptions {
  /** e.g. /webhooks/whatsapp */
  path: string;
  appSecret: string;
  verifyToken: string;
  log: Logger;
  /**
   * Turns a signed, JSON-parsed body into the batch's activities, in delivery order, or `undefined`
   * when the body does not have the platform's shape (answered 400).
   */
  extract(body: unknown): Activity[] | undefined;
  receive(activity: Activity): Promise<'accepted' | 'duplicate'>;
}

/**
 * Mounts Meta's webhook pair on `path`: the GET subscription handshake and the signed POST. The POST
 * route lives in its own encapsulated plugin whose JSON parser keeps the raw bytes (the HMAC is over
 * them), so every other route keeps fastify's normal JSON parsing.
 */
export async function metaWebhookRoutes(app: FastifyInstance, opts: MetaWebhookOptions): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    scope.get(opts.path, async (req, reply) => {
      const query = req.query as Record<string, unknown>;
      const mode = query['hub.mode'];
      const token = query['hub.verify_token'];
      const challenge = query['hub.challenge'];
      if (
        mode === 'subscribe' &&
        typeof token === 'string' &&
        typeof challenge === 'string' &&
        safeEqualText(token, opts.verifyToken)
      ) {
        return reply.type('text/plain; charset=utf-8').send(challenge);
      }
      return reply.code(403).send({ error: 'FORBIDDEN' });
    });

    scope.post(opts.path, async (req, reply) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (!verifySignature(raw, req.headers['x-hub-signature-256'], opts.appSecret)) {
        return reply.code(401).send({ error: 'UNAUTHORIZED' });
      }
      let json: unknown;
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        return reply.code(400).send({ error: 'INVALID_JSON' });
      }
      const activities = opts.extract(json);
      if (!activities) return reply.code(400).send({ error: 'INVALID_PAYLOAD' });
      // One at a time, in delivery order: the inbox numbers a conversation's messages as they arrive.
      for (const activity of activities) {
        const valid = activitySchema.safeParse(activity);
        if (!valid.success) {
          opts.log.warn({ path: opts.path }, 'webhook message skipped: not a valid activity');
          continue;
        }
        try {
          await opts.receive(valid.data);
        } catch (err) {
          opts.log.error({ err, path: opts.path }, 'webhook message not accepted; asking Meta to retry');
          return reply.code(500).send({ error: 'NOT_ACCEPTED' });
        }
      }
      return reply.code(200).send('EVENT_RECEIVED');
    });
  });
}
