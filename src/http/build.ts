import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Channel } from '../channels/types.js';
import { webChatRoutes, type WebChatDeps } from '../channels/web/index.js';

export interface HttpDeps {
  log: Logger;
  webChat: WebChatDeps;
  /** Platform channels whose webhooks are mounted here. */
  channels?: readonly Channel[];
  /** Behind a reverse proxy: take the client address from X-Forwarded-For. */
  trustProxy?: boolean;
  /** Body size limit for every route (webhooks included), in bytes. */
  bodyLimit?: number;
}

/**
 * Builds the HTTP application (web chat, webhooks, console, API) without listening, so every route can
 * be exercised with `inject()`; only main.ts calls `listen()`.
 *
 * @example
 * const app = await buildHttp(deps);
 * const res = await app.inject({ method: 'GET', url: '/healthz' });
 */
export async function buildHttp(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit ?? 256 * 1024,
    trustProxy: deps.trustProxy ?? false,
  });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
  });
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/', async (_req, reply) => reply.redirect('/chat'));
  await webChatRoutes(app, deps.webChat);
  for (const channel of deps.channels ?? []) await channel.routes?.(app);
  return app;
}
