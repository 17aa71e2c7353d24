import { Schema, type Types } from 'mongoose';
import { CHANNEL_PATTERN, leaseSchema, type LeaseRecord } from './common.js';

export const INBOUND_STATUSES = ['received', 'processing', 'done', 'failed'] as const;
export type InboundStatus = (typeof INBOUND_STATUSES)[number];

/**
 * One update from a platform, persisted before the webhook is acknowledged. The unique index on
 * (channel, platformMessageId) is what makes a retried or duplicated delivery a no-op: the second
 * insert fails with E11000 and the adapter acknowledges without doing the work twice.
 */
export interface InboundMessage {
  channel: string;
  platformMessageId: string;
  /**
   * `channel:chatId`, so a conversation's unfinished messages are found through an index. Set by the
   * inbox; a message stored without it (by an older version) gets it from the inbox's sweep.
   */
  conversationKey?: string;
  /** The parsed activity, as a plain object: the channel adapter validated it at the edge. */
  activity: Record<string, unknown>;
  status: InboundStatus;
  lease?: LeaseRecord;
  attempts: number;
  error?: string;
  /** When set, MongoDB deletes the message at that time (retention of processed messages). */
  expireAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

export type InboundMessageRecord = InboundMessage & { _id: Types.ObjectId };

export const inboundMessageSchema = new Schema<InboundMessage>(
  {
    channel: { type: String, required: true, match: CHANNEL_PATTERN },
    platformMessageId: { type: String, required: true },
    conversationKey: { type: String },
    activity: { type: Schema.Types.Mixed, required: true },
    status: { type: String, enum: INBOUND_STATUSES, required: true, default: 'received' },
    lease: { type: leaseSchema },
    attempts: { type: Number, required: true, default: 0 },
    error: { type: String },
    expireAt: { type: Date },
  },
  // `minimize: false` keeps an empty activity object instead of dropping the required field.
  { timestamps: true, collection: 'inbound_messages', minimize: false },
);

inboundMessageSchema.index({ channel: 1, platformMessageId: 1 }, { unique: true });
// Workers pick up received messages, and processing ones whose lease expired (a crashed worker).
inboundMessageSchema.index({ status: 1, 'lease.until': 1, createdAt: 1 });
// A conversation's next message: its unfinished ones, oldest first.
inboundMessageSchema.index({ conversationKey: 1, createdAt: 1 });
inboundMessageSchema.index({ expireAt: 1 }, { expireAfterSeconds: 0 });
