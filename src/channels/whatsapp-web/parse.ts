import { z } from 'zod';
import type { Activity, Attachment } from '../../engine/activity.js';

/**
 * The fields of a whatsapp-web.js `Message` the adapter reads. The object is scraped from WhatsApp's web
 * page, so nothing about it is trusted until it passes here.
 */
export const wwebMessageSchema = z.object({
  id: z.object({ _serialized: z.string().min(1).max(256) }),
  from: z.string().min(1).max(256),
  body: z.string().default(''),
  type: z.string().default('chat'),
  timestamp: z.number().positive().optional(),
  hasMedia: z.boolean().default(false),
  fromMe: z.boolean().default(false),
  isStatus: z.boolean().optional(),
  broadcast: z.boolean().optional(),
  location: z.object({ latitude: z.coerce.number(), longitude: z.coerce.number() }).optional().nullable(),
  _data: z
    .object({ notifyName: z.string().optional(), mimetype: z.string().optional() })
    .partial()
    .optional(),
});
export type WwebMessage = z.infer<typeof wwebMessageSchema>;

/** Only one-to-one chats reach the engine: `@c.us` phone ids and the newer `@lid` privacy ids. */
const DIRECT_CHAT = /@(c\.us|lid)$/;

/** Media without a MIME type from WhatsApp get the family of their message type. */
const TYPE_FAMILY: Record<string, string> = {
  image: 'image/*',
  video: 'video/*',
  audio: 'audio/*',
  ptt: 'audio/ogg',
  sticker: 'image/webp',
  document: 'application/octet-stream',
};

/** Why a message is not handed to the engine (logged at debug level). */
export type Ignored = 'own' | 'status' | 'group_or_broadcast' | 'empty';

/**
 * Turns a whatsapp-web.js message into an Activity, or says why it is ignored (our own sends, status
 * updates, groups and broadcast lists, protocol messages with nothing to read). Throws a ZodError when
 * the payload is not a message at all.
 */
export function parseWwebMessage(raw: unknown): { activity: Activity } | { ignored: Ignored } {
  const msg = wwebMessageSchema.parse(raw);
  if (msg.fromMe) return { ignored: 'own' };
  if (msg.isStatus === true || msg.from === 'status@broadcast') return { ignored: 'status' };
  if (msg.broadcast === true || !DIRECT_CHAT.test(msg.from)) return { ignored: 'group_or_broadcast' };

  const isLocation = msg.type === 'location' && msg.location != null;
  // A location message's body is a base64 map thumbnail, not something the citizen typed.
  const text = isLocation ? '' : msg.body.trim().slice(0, 4096);
  const attachments: Attachment[] = msg.hasMedia
    ? [
        {
          contentType: msg._data?.mimetype ?? TYPE_FAMILY[msg.type] ?? 'application/octet-stream',
          fileId: msg.id._serialized,
        },
      ]
    : [];
  const location =
    isLocation && msg.location ? { lat: msg.location.latitude, lng: msg.location.longitude } : undefined;
  if (text === '' && attachments.length === 0 && !location) return { ignored: 'empty' };

  const userName = msg._data?.notifyName?.trim().slice(0, 256);
  return {
    activity: {
      address: { channel: 'whatsapp-web', userId: msg.from, chatId: msg.from },
      platformMessageId: msg.id._serialized,
      at: msg.timestamp !== undefined ? new Date(msg.timestamp * 1000) : new Date(),
      ...(userName ? { userName } : {}),
      ...(text !== '' ? { text } : {}),
      ...(location ? { location } : {}),
      ...(attachments.length > 0 ? { attachments } : {}),
    },
  };
}
