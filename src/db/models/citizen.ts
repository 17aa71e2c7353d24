import { Schema, type Types } from 'mongoose';
import type { Lang } from '../../nlu/catalog.js';
import { CHANNEL_PATTERN, langField } from './common.js';

/**
 * A citizen as one channel identity knows them: one document per (channel, channelUserId). The same
 * person on Telegram and on WhatsApp is two citizens: platforms share no identity, and linking them
 * would need personal data we do not want to hold.
 */
export interface Citizen {
  channel: string;
  /** The platform's id for the user (Telegram user id, WhatsApp phone…): personal data. */
  channelUserId: string;
  /**
   * Channel-specific conversation address needed to message the citizen proactively (a Telegram
   * chat id, a web-chat session…), as a plain object only the channel's renderer interprets.
   */
  address?: Record<string, unknown>;
  lang: Lang;
  displayName?: string;
  /** When the citizen acknowledged the privacy notice; unset until they do. */
  privacyAckAt?: Date;
  /** Whether the citizen agreed to be contacted about their cases beyond replies in the chat. */
  contactConsent: boolean;
  lastSeenAt: Date;
  /**
   * The last message the citizen sent on this citizen's channel. WhatsApp and Messenger only allow
   * free-form replies within 24 hours of it, so the outbox reads it before sending. A citizen is one
   * channel identity, so this one date is the per-channel window.
   */
  lastInboundAt?: Date;
  /** Set when the citizen's personal data was erased; the document stays so statistics stay true. */
  erasedAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** A citizen as read back from the database. */
export type CitizenRecord = Citizen & { _id: Types.ObjectId };

export const citizenSchema = new Schema<Citizen>(
  {
    channel: { type: String, required: true, match: CHANNEL_PATTERN },
    channelUserId: { type: String, required: true },
    address: { type: Schema.Types.Mixed },
    lang: langField,
    displayName: { type: String },
    privacyAckAt: { type: Date },
    contactConsent: { type: Boolean, required: true, default: false },
    lastSeenAt: { type: Date, required: true, default: () => new Date() },
    lastInboundAt: { type: Date },
    erasedAt: { type: Date },
  },
  { timestamps: true, collection: 'citizens', minimize: false },
);

citizenSchema.index({ channel: 1, channelUserId: 1 }, { unique: true });
// Retention sweeps look for citizens not seen for a long time.
citizenSchema.index({ lastSeenAt: 1 });
