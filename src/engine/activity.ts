import { z } from 'zod';

/** Every channel the engine can be reached on. */
export const CHANNELS = [
  'web',
  'terminal',
  'test',
  'telegram',
  'whatsapp-web',
  'whatsapp',
  'messenger',
] as const;
export type ChannelId = (typeof CHANNELS)[number];

/**
 * Where replies go: the channel, the platform's user id (the citizen's identity on that channel)
 * and the platform's chat/thread id (often equal to the user id).
 */
export const addressSchema = z.object({
  channel: z.enum(CHANNELS),
  userId: z.string().min(1).max(256),
  chatId: z.string().min(1).max(256),
});
export type Address = z.infer<typeof addressSchema>;

export const locationSchema = z.object({
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
});

/** A file the citizen sent: the bytes stay on the platform; we keep what is needed to fetch it again. */
export const attachmentSchema = z
  .object({
    contentType: z.string().min(1).max(128),
    url: z.string().max(2048).optional(),
    /** The platform's own file id (a Telegram file_id, a WhatsApp media id). */
    fileId: z.string().max(512).optional(),
    name: z.string().max(256).optional(),
  })
  .refine((a) => a.url !== undefined || a.fileId !== undefined, {
    message: 'an attachment needs a url or a file id',
  });
export type Attachment = z.infer<typeof attachmentSchema>;

/**
 * One inbound message, whatever platform it came from. The adapter alone knows the raw payload;
 * past it, only this shape travels (and is what the inbox persists).
 */
export const activitySchema = z.object({
  address: addressSchema,
  /** The platform's id for this message: the inbox de-duplicates on (channel, platformMessageId). */
  platformMessageId: z.string().min(1).max(256),
  at: z.coerce.date(),
  /** The citizen's display name on the platform, when it gives one. */
  userName: z.string().max(256).optional(),
  /** A typed or tapped text; a tapped choice carries its value here too. */
  text: z.string().max(4096).optional(),
  /** The value of a tapped button (inline keyboard, quick reply). */
  choice: z.string().max(256).optional(),
  location: locationSchema.optional(),
  attachments: z.array(attachmentSchema).max(10).optional(),
  /** The language the platform or device reports for the user (Telegram's language_code, a browser's). */
  localeHint: z.string().max(35).optional(),
  /** A platform's "start" event (Telegram /start, a referral, a web chat opening). */
  start: z.boolean().optional(),
});
export type Activity = z.infer<typeof activitySchema>;

/** A stable key for one conversation, used for state and ordering. */
export function conversationKey(address: Pick<Address, 'chatId'> & { channel: string }): string {
  return `${address.channel}:${address.chatId}`;
}
