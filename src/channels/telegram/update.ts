import { z } from 'zod';
import { activitySchema, type Activity, type Attachment } from '../../engine/activity.js';
import { withFields } from '../../objects.js';

/*
 * Only the fields the bot reads are declared; Telegram adds fields over time and z.object ignores the
 * rest, so a new Bot API version never turns a good update into a rejection.
 */
const userSchema = z.object({
  id: z.number().int(),
  first_name: z.string().optional(),
  username: z.string().optional(),
});
const chatSchema = z.object({ id: z.number().int() });
const photoSizeSchema = z.object({
  file_id: z.string().min(1).max(512),
  width: z.number().nonnegative(),
  height: z.number().nonnegative(),
  file_size: z.number().nonnegative().optional(),
});
const messageSchema = z.object({
  message_id: z.number().int(),
  date: z.number().int().nonnegative(),
  chat: chatSchema,
  from: userSchema.optional(),
  text: z.string().optional(),
  caption: z.string().optional(),
  location: z.object({ latitude: z.number(), longitude: z.number() }).optional(),
  photo: z.array(photoSizeSchema).optional(),
});
const callbackQuerySchema = z.object({
  id: z.string().min(1),
  from: userSchema,
  message: z.object({ chat: chatSchema }).optional(),
  data: z.string().optional(),
});
const updateSchema = z.object({
  update_id: z.number().int().nonnegative(),
  message: messageSchema.optional(),
  callback_query: callbackQuerySchema.optional(),
});

/** The update kinds the bot asks Telegram for (setWebhook / getUpdates `allowed_updates`). */
export const ALLOWED_UPDATES = ['message', 'callback_query'] as const;

/** Why an update produced no Activity: `invalid` is malformed, `ignored` is a kind the bot does not handle. */
export interface UpdateRejection {
  ok: false;
  reason: 'invalid' | 'ignored';
  /** For logs: names a field or kind, never the citizen's content. */
  detail: string;
  updateId?: number;
  /** A tap the bot cannot use is still answered, so the citizen's button stops spinning. */
  callbackQueryId?: string;
}

/** A parsed update: the Activity for the engine, and the callback query to answer, if it was a tap. */
export interface ParsedUpdate {
  ok: true;
  activity: Activity;
  callbackQueryId?: string;
}

const START = /^\/start(?:@\w+)?(?:\s|$)/;

function largestPhoto(sizes: readonly z.infer<typeof photoSizeSchema>[]): Attachment | undefined {
  let best: z.infer<typeof photoSizeSchema> | undefined;
  for (const size of sizes) {
    const area = size.width * size.height;
    if (
      !best ||
      area > best.width * best.height ||
      (area === best.width * best.height && (size.file_size ?? 0) > (best.file_size ?? 0))
    )
      best = size;
  }
  // Telegram re-encodes every photo (not sent as a document) to JPEG.
  return best ? { contentType: 'image/jpeg', fileId: best.file_id } : undefined;
}

/**
 * Turns a raw Telegram update (webhook body or getUpdates item) into an Activity. Never throws: anything
 * else comes back as a typed rejection the caller acknowledges with 200, so Telegram stops redelivering it.
 * `platformMessageId` is `u<update_id>`: unique per bot and stable across Telegram's redeliveries.
 *
 * @example
 * const parsed = parseTelegramUpdate({ update_id: 7, message: { message_id: 1, date: 0, chat: { id: 42 }, text: 'hi' } });
 * // parsed.ok && parsed.activity.text === 'hi'
 */
export function parseTelegramUpdate(
  raw: unknown,
  now: () => Date = () => new Date(),
): ParsedUpdate | UpdateRejection {
  const parsed = updateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: 'invalid',
      detail: issue ? `${issue.path.join('.')}: ${issue.code}` : 'update',
    };
  }
  const update = parsed.data;
  const updateId = update.update_id;
  const platformMessageId = `u${updateId}`;
  let candidate: Record<string, unknown> | undefined;
  let callbackQueryId: string | undefined;

  if (update.message) {
    const m = update.message;
    const userId = String(m.from?.id ?? m.chat.id);
    const base = {
      address: { channel: 'telegram', userId, chatId: String(m.chat.id) },
      platformMessageId,
      at: new Date(m.date * 1000),
      ...(m.from?.first_name !== undefined ? { userName: m.from.first_name } : {}),
    };
    if (m.text !== undefined && START.test(m.text)) {
      candidate = withFields(base, { start: true });
    } else if (m.location) {
      candidate = withFields(base, { location: { lat: m.location.latitude, lng: m.location.longitude } });
    } else if (m.photo && m.photo.length > 0) {
      const photo = largestPhoto(m.photo);
      candidate = withFields(base, {
        ...(photo ? { attachments: [photo] } : {}),
        ...(m.caption !== undefined && m.caption !== '' ? { text: m.caption } : {}),
      });
    } else if (m.text !== undefined && m.text.trim() !== '') {
      candidate = withFields(base, { text: m.text });
    } else {
      return { ok: false, reason: 'ignored', detail: 'message without text, location or photo', updateId };
    }
  } else if (update.callback_query) {
    const q = update.callback_query;
    callbackQueryId = q.id;
    if (q.data === undefined || q.data === '') {
      return {
        ok: false,
        reason: 'ignored',
        detail: 'callback_query without data',
        updateId,
        callbackQueryId,
      };
    }
    candidate = {
      address: {
        channel: 'telegram',
        userId: String(q.from.id),
        chatId: String(q.message?.chat.id ?? q.from.id),
      },
      platformMessageId,
      // A tap carries no date; its arrival is when it happened.
      at: now(),
      choice: q.data,
      ...(q.from.first_name !== undefined ? { userName: q.from.first_name } : {}),
    };
  } else {
    return { ok: false, reason: 'ignored', detail: 'update kind not handled', updateId };
  }

  // The engine's own schema has the final word (length limits, coordinate ranges).
  const activity = activitySchema.safeParse(candidate);
  if (!activity.success) {
    const issue = activity.error.issues[0];
    return {
      ok: false,
      reason: 'invalid',
      detail: issue ? `${issue.path.join('.')}: ${issue.code}` : 'activity',
      updateId,
      ...(callbackQueryId !== undefined ? { callbackQueryId } : {}),
    };
  }
  return { ok: true, activity: activity.data, ...(callbackQueryId !== undefined ? { callbackQueryId } : {}) };
}
