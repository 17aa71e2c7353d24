import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Db } from '../../db/connection.js';
import { locationSchema, type Activity, type Address } from '../../engine/activity.js';
import type { ChannelSender, Outbox } from '../../engine/outbox.js';
import type { Reply } from '../../engine/replies.js';
import type { Translator } from '../../i18n/index.js';
import { isLang, type Lang } from '../../nlu/catalog.js';

const PUBLIC = join(import.meta.dirname, 'public');

/** A session id the browser generates once and keeps (localStorage): the citizen's identity on web chat. */
const sessionId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/);

/** What the web chat page posts; parsed here, at the edge, into an Activity. */
const postSchema = z
  .object({
    session: sessionId,
    id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
    text: z.string().trim().min(1).max(2000).optional(),
    choice: z.string().min(1).max(64).optional(),
    location: locationSchema.optional(),
    start: z.boolean().optional(),
    lang: z.string().max(35).optional(),
  })
  .strict()
  .refine(
    (b) => b.text !== undefined || b.choice !== undefined || b.location !== undefined || b.start === true,
    {
      message: 'a message needs text, a choice, a location or start',
    },
  );

/** Receives what the dispatcher sends to web chat sessions and pushes it to their open event streams. */
export class WebChatSender implements ChannelSender {
  private readonly streams = new Map<string, Set<FastifyReply>>();

  async send(address: Address, reply: Reply, idempotencyKey: string): Promise<{ platformMessageId: string }> {
    const open = this.streams.get(address.chatId);
    // No open page: fail, so the outbox keeps the reply and retries when the page reconnects.
    if (!open || open.size === 0) throw new Error('web chat session is not connected');
    const frame = `id: ${idempotencyKey}\ndata: ${JSON.stringify(reply)}\n\n`;
    for (const stream of open) stream.raw.write(frame);
    return { platformMessageId: idempotencyKey };
  }

  /**
   * Ends every open event stream. The server is stopping: a page left connected would otherwise
   * hold its close (and a service manager's stop) until it went away. Pages reconnect on their own.
   */
  closeAll(): void {
    for (const set of this.streams.values()) for (const stream of set) stream.raw.end();
    this.streams.clear();
  }

  attach(session: string, stream: FastifyReply): () => void {
    const set = this.streams.get(session) ?? new Set();
    set.add(stream);
    this.streams.set(session, set);
    return () => {
      set.delete(stream);
      if (set.size === 0) this.streams.delete(session);
    };
  }
}

function pickLang(header: string | undefined, query: unknown): Lang {
  if (isLang(query)) return query;
  for (const part of (header ?? '').split(',')) {
    const code = part.trim().slice(0, 2).toLowerCase();
    if (isLang(code)) return code;
  }
  return 'en';
}

export interface WebChatDeps {
  receive(activity: Activity): Promise<'accepted' | 'duplicate'>;
  sender: WebChatSender;
  outbox: Outbox;
  db: Db;
  i18n: Translator;
}

/**
 * The web chat: a page at /chat for trying the bot in a browser, a POST endpoint for messages and a
 * server-sent event stream for replies (which go through the outbox like every channel's).
 */
export async function webChatRoutes(app: FastifyInstance, deps: WebChatDeps): Promise<void> {
  const page = readFileSync(join(PUBLIC, 'index.html'), 'utf8');
  const script = readFileSync(join(PUBLIC, 'chat.js'), 'utf8');
  // Before the server waits for its connections to finish: event streams never would.
  app.addHook('preClose', async () => deps.sender.closeAll());

  app.get('/chat', async (req, reply) => {
    const query = req.query as Record<string, unknown>;
    const lang = pickLang(req.headers['accept-language'], query.lang);
    const strings = Object.fromEntries(
      ['title', 'placeholder', 'send', 'share_location', 'offline'].map((k) => [
        k,
        deps.i18n.t(`webchat.${k}`, lang),
      ]),
    );
    const html = page
      .replace('__LANG__', lang)
      .replace('__DIR__', lang === 'ar' ? 'rtl' : 'ltr')
      .replaceAll('__TITLE__', strings.title ?? '')
      .replace('__STRINGS__', JSON.stringify(strings).replace(/</g, '\\u003c'));
    return reply.type('text/html; charset=utf-8').send(html);
  });

  app.get('/chat/chat.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(script));

  app.post('/chat/api/messages', async (req, reply) => {
    const parsed = postSchema.safeParse(req.body);
    if (!parsed.success) {
      return reply
        .code(400)
        .send({ error: 'ACTIVITY_INVALID', message: parsed.error.issues.map((i) => i.message).join('; ') });
    }
    const body = parsed.data;
    const activity: Activity = {
      address: { channel: 'web', userId: body.session, chatId: body.session },
      platformMessageId: body.id,
      at: new Date(),
      ...(body.text !== undefined ? { text: body.text } : {}),
      ...(body.choice !== undefined ? { choice: body.choice } : {}),
      ...(body.location !== undefined ? { location: body.location } : {}),
      ...(body.start ? { start: true } : {}),
      ...(body.lang !== undefined ? { localeHint: body.lang } : {}),
    };
    const status = await deps.receive(activity);
    return reply.code(202).send({ status });
  });

  app.get('/chat/api/events', async (req, reply) => {
    const parsed = sessionId.safeParse((req.query as Record<string, unknown>).session);
    if (!parsed.success)
      return reply.code(400).send({ error: 'ACTIVITY_INVALID', message: 'session is required' });
    const session = parsed.data;
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    reply.raw.write(': connected\n\n');
    const detach = deps.sender.attach(session, reply);
    const ping = setInterval(() => reply.raw.write(': ping\n\n'), 25_000);
    req.raw.on('close', () => {
      clearInterval(ping);
      detach();
    });
    // Replies that could not be delivered while the page was closed are due again now.
    await deps.db.OutboundMessage.updateMany(
      { conversationKey: `web:${session}`, status: 'failed' },
      { $set: { nextAttemptAt: new Date() } },
    );
    deps.outbox.kick();
  });
}
