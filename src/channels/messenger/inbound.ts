import { z } from 'zod';
import type { Activity, Attachment } from '../../engine/activity.js';

const attachmentSchema = z.object({
  type: z.string(),
  payload: z
    .object({
      url: z.string().optional(),
      coordinates: z.object({ lat: z.number(), long: z.number() }).optional(),
    })
    .nullish(),
});

/** One messaging event; delivery, read, echo and reaction events parse too and are skipped. */
const eventSchema = z.object({
  sender: z.object({ id: z.string().min(1) }),
  timestamp: z.number().optional(),
  message: z
    .object({
      mid: z.string().min(1),
      is_echo: z.boolean().optional(),
      text: z.string().optional(),
      quick_reply: z.object({ payload: z.string() }).optional(),
      attachments: z.array(attachmentSchema).optional(),
    })
    .optional(),
  postback: z
    .object({ mid: z.string().optional(), payload: z.string().optional(), title: z.string().optional() })
    .optional(),
});
type MessengerEvent = z.infer<typeof eventSchema>;

/** The page webhook envelope: `entry[].messaging[]`. */
export const webhookSchema = z.object({
  object: z.string().optional(),
  entry: z.array(z.object({ messaging: z.array(z.unknown()).optional() })),
});

const cut = (s: string, max: number): string => Array.from(s).slice(0, max).join('');

function toActivity(event: MessengerEvent): Activity | undefined {
  const at = event.timestamp !== undefined ? new Date(event.timestamp) : new Date();
  const address = { channel: 'messenger' as const, userId: event.sender.id, chatId: event.sender.id };
  const when = Number.isNaN(at.getTime()) ? new Date() : at;
  const { message, postback } = event;
  if (message && !message.is_echo) {
    const activity: Activity = { address, platformMessageId: message.mid, at: when };
    if (message.quick_reply) activity.choice = message.quick_reply.payload;
    if (message.text !== undefined && message.text !== '') activity.text = cut(message.text, 4096);
    const files: Attachment[] = [];
    for (const a of message.attachments ?? []) {
      const coordinates = a.payload?.coordinates;
      if (a.type === 'location' && coordinates) {
        activity.location = { lat: coordinates.lat, lng: coordinates.long };
      } else if (a.payload?.url && ['image', 'video', 'audio', 'file'].includes(a.type)) {
        files.push({
          contentType: a.type === 'file' ? 'application/octet-stream' : `${a.type}/*`,
          url: a.payload.url,
        });
      }
    }
    if (files.length > 0) activity.attachments = files.slice(0, 10);
    const meaningful =
      activity.text !== undefined ||
      activity.choice !== undefined ||
      activity.location !== undefined ||
      activity.attachments !== undefined;
    return meaningful ? activity : undefined;
  }
  if (postback?.payload) {
    return {
      address,
      // Older postbacks carry no mid; sender and time identify a retried delivery just as well.
      platformMessageId: postback.mid ?? `postback:${event.sender.id}:${event.timestamp ?? 0}`,
      at: when,
      choice: postback.payload,
    };
  }
  return undefined;
}

/**
 * Every messaging event of every entry, in delivery order; our own echoes and delivery/read receipts
 * yield nothing. `undefined` when the envelope itself is not a page webhook.
 */
export function extractMessenger(body: unknown): Activity[] | undefined {
  const parsed = webhookSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const out: Activity[] = [];
  for (const entry of parsed.data.entry) {
    for (const raw of entry.messaging ?? []) {
      const event = eventSchema.safeParse(raw);
      if (!event.success) continue;
      const activity = toActivity(event.data);
      if (activity) out.push(activity);
    }
  }
  return out;
}
