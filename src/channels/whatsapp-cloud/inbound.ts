import { z } from 'zod';
import type { Activity, Attachment } from '../../engine/activity.js';
import { withFields } from '../../objects.js';

const media = z.object({
  id: z.string().min(1),
  mime_type: z.string().optional(),
  caption: z.string().optional(),
});

/**
 * One message as the Cloud API delivers it. Only the fields we use are declared; unknown types
 * (reactions, stickers, system notices…) still parse and are skipped.
 */
const messageSchema = z.object({
  from: z.string().min(1),
  id: z.string().min(1),
  timestamp: z.string().optional(),
  type: z.string(),
  text: z.object({ body: z.string() }).optional(),
  interactive: z
    .object({
      type: z.string(),
      button_reply: z.object({ id: z.string(), title: z.string().optional() }).optional(),
      list_reply: z.object({ id: z.string(), title: z.string().optional() }).optional(),
    })
    .optional(),
  button: z.object({ payload: z.string().optional(), text: z.string().optional() }).optional(),
  location: z.object({ latitude: z.number(), longitude: z.number() }).optional(),
  image: media.optional(),
  document: media.optional(),
  audio: media.optional(),
  video: media.optional(),
});
type WaMessage = z.infer<typeof messageSchema>;

const changeSchema = z.object({
  field: z.string().optional(),
  value: z
    .object({
      contacts: z
        .array(z.object({ wa_id: z.string().optional(), profile: z.object({ name: z.string() }).optional() }))
        .optional(),
      messages: z.array(z.unknown()).optional(),
    })
    .optional(),
});

/** The webhook envelope: `entry[].changes[].value.messages[]` (statuses arrive the same way and are ignored). */
export const webhookSchema = z.object({
  object: z.string().optional(),
  entry: z.array(z.object({ changes: z.array(changeSchema).optional() })),
});

const cut = (s: string, max: number): string => Array.from(s).slice(0, max).join('');

function toActivity(message: WaMessage, userName: string | undefined): Activity | undefined {
  const seconds = Number(message.timestamp);
  const at = Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : new Date();
  const base: Activity = {
    address: { channel: 'whatsapp', userId: message.from, chatId: message.from },
    platformMessageId: message.id,
    at: Number.isNaN(at.getTime()) ? new Date() : at,
    ...(userName ? { userName: cut(userName, 256) } : {}),
  };
  switch (message.type) {
    case 'text':
      return message.text ? withFields(base, { text: cut(message.text.body, 4096) }) : undefined;
    case 'interactive': {
      const picked = message.interactive?.button_reply ?? message.interactive?.list_reply;
      return picked ? withFields(base, { choice: picked.id }) : undefined;
    }
    case 'button': {
      const payload = message.button?.payload ?? message.button?.text;
      return payload ? withFields(base, { choice: payload }) : undefined;
    }
    case 'location':
      return message.location
        ? withFields(base, { location: { lat: message.location.latitude, lng: message.location.longitude } })
        : undefined;
    case 'image':
    case 'document':
    case 'audio':
    case 'video': {
      const file = message[message.type];
      if (!file) return undefined;
      const attachment: Attachment = {
        contentType: file.mime_type ?? `${message.type}/*`,
        fileId: file.id,
      };
      return withFields(base, {
        attachments: [attachment],
        ...(file.caption ? { text: cut(file.caption, 4096) } : {}),
      });
    }
    default:
      return undefined;
  }
}

/**
 * Every message of every change of every entry, in delivery order. Events that are not messages
 * (statuses, reactions, unsupported types) yield nothing; a message that is not shaped like one is
 * skipped rather than failing its whole batch. `undefined` when the envelope itself is wrong.
 */
export function extractWhatsApp(body: unknown): Activity[] | undefined {
  const parsed = webhookSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const out: Activity[] = [];
  for (const entry of parsed.data.entry) {
    for (const change of entry.changes ?? []) {
      const value = change.value;
      if (!value?.messages) continue;
      for (const raw of value.messages) {
        const message = messageSchema.safeParse(raw);
        if (!message.success) continue;
        const name = value.contacts?.find((c) => c.wa_id === message.data.from)?.profile?.name;
        const activity = toActivity(message.data, name);
        if (activity) out.push(activity);
      }
    }
  }
  return out;
}
