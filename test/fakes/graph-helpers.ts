import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { z } from 'zod';
import type { ChannelFactory } from '../../src/channels/types.js';
import { openDatabase } from '../../src/db/connection.js';
import { activitySchema, type Activity } from '../../src/engine/activity.js';
import { loadTranslator } from '../../src/i18n/index.js';
import { startTestMongo } from '../helpers/mongo.js';
import { signBody } from '../../src/channels/meta/signature.js';
import type { TestBot } from '../helpers/bot.js';

export const REFERENCE = /C-[2-9A-HJKMNP-Z]{6}/;

/** Posts a body to a Meta webhook, signed with `secret` (or with the given header as is). */
export async function postSigned(
  bot: TestBot,
  path: string,
  payload: unknown,
  secret: string,
  signature?: string,
): Promise<{ statusCode: number; body: string }> {
  const raw = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const res = await bot.app.http.inject({
    method: 'POST',
    url: path,
    headers: {
      'content-type': 'application/json',
      ...(signature !== '' ? { 'x-hub-signature-256': signature ?? signBody(raw, secret) } : {}),
    },
    payload: raw,
  });
  return { statusCode: res.statusCode, body: res.body };
}

/** What the tests read back from a WhatsApp Cloud send. */
export const waSendSchema = z.object({
  to: z.string(),
  type: z.string(),
  text: z.object({ body: z.string(), preview_url: z.boolean().optional() }).optional(),
  interactive: z
    .object({
      type: z.string(),
      body: z.object({ text: z.string() }).optional(),
      action: z
        .object({
          buttons: z.array(z.object({ reply: z.object({ id: z.string(), title: z.string() }) })).optional(),
          sections: z
            .array(z.object({ rows: z.array(z.object({ id: z.string(), title: z.string() })) }))
            .optional(),
        })
        .optional(),
    })
    .optional(),
  template: z
    .object({
      name: z.string(),
      language: z.object({ code: z.string() }),
      components: z.array(z.object({ parameters: z.array(z.object({ text: z.string() })) })),
    })
    .optional(),
});
export type WaSend = z.infer<typeof waSendSchema>;

/** What the tests read back from a Messenger Send API call. */
export const fbSendSchema = z.object({
  recipient: z.object({ id: z.string() }),
  messaging_type: z.string(),
  tag: z.string().optional(),
  message: z.object({
    text: z.string().optional(),
    quick_replies: z.array(z.object({ title: z.string(), payload: z.string() })).optional(),
    attachment: z
      .object({ type: z.string(), payload: z.object({ text: z.string().optional() }).loose() })
      .optional(),
  }),
});
export type FbSend = z.infer<typeof fbSendSchema>;

/**
 * A channel's webhook routes alone on a bare fastify app, with a `receive` that validates what the
 * adapter hands over exactly as the inbox would (a malformed activity throws, so it would surface as a
 * 5xx): for property tests that post thousands of payloads without running turns.
 */
export async function webhookHarness(
  factory: ChannelFactory,
): Promise<{ app: FastifyInstance; received: Activity[]; stop(): Promise<void> }> {
  const mongo = await startTestMongo();
  const db = await openDatabase(mongo.uri);
  const received: Activity[] = [];
  const channel = factory({
    db,
    log: pino({ level: 'silent' }),
    i18n: loadTranslator(),
    async receive(activity) {
      received.push(activitySchema.parse(activity));
      return 'accepted';
    },
  });
  const app = Fastify({ bodyLimit: 64 * 1024 });
  await channel.routes?.(app);
  await app.ready();
  return {
    app,
    received,
    async stop() {
      await app.close();
      await db.close();
      await mongo.stop();
    },
  };
}
