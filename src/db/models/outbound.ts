import { Schema, type Types } from 'mongoose';
import { CHANNEL_PATTERN, leaseSchema, type LeaseRecord } from './common.js';

export const OUTBOUND_STATUSES = ['pending', 'sending', 'sent', 'failed', 'dead'] as const;
export type OutboundStatus = (typeof OUTBOUND_STATUSES)[number];

/**
 * One reply waiting to be (or already) delivered to a citizen. The dispatcher sends a conversation's
 * messages in `seq` order and only after the previous one is sent, so a retry never reorders what
 * the citizen reads; `idempotencyKey` makes re-enqueuing the same reply (a replayed turn) a no-op.
 */
export interface OutboundMessage {
  channel: string;
  /** The conversation this message belongs to (channel + conversation id): the ordering scope of `seq`. */
  conversationKey: string;
  /** Channel-specific address (chat id, phone…), a plain object only the channel's renderer reads. */
  address: Record<string, unknown>;
  /** The reply, as a plain object of the engine's reply union. */
  reply: Record<string, unknown>;
  status: OutboundStatus;
  attempts: number;
  nextAttemptAt: Date;
  idempotencyKey: string;
  /** Position in its conversation, from {@link nextSequence}. */
  seq: number;
  lease?: LeaseRecord;
  lastError?: string;
  caseReference?: string;
  /** The platform's id of the delivered message, once sent. */
  platformMessageId?: string;
  sentAt?: Date;
  expireAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

export type OutboundMessageRecord = OutboundMessage & { _id: Types.ObjectId };

export const outboundMessageSchema = new Schema<OutboundMessage>(
  {
    channel: { type: String, required: true, match: CHANNEL_PATTERN },
    conversationKey: { type: String, required: true },
    address: { type: Schema.Types.Mixed, required: true },
    reply: { type: Schema.Types.Mixed, required: true },
    status: { type: String, enum: OUTBOUND_STATUSES, required: true, default: 'pending' },
    attempts: { type: Number, required: true, default: 0 },
    nextAttemptAt: { type: Date, required: true, default: () => new Date() },
    idempotencyKey: { type: String, required: true },
    seq: { type: Number, required: true },
    lease: { type: leaseSchema },
    lastError: { type: String },
    caseReference: { type: String },
    platformMessageId: { type: String },
    sentAt: { type: Date },
    expireAt: { type: Date },
  },
  { timestamps: true, collection: 'outbound_messages', minimize: false },
);

outboundMessageSchema.index({ idempotencyKey: 1 }, { unique: true });
outboundMessageSchema.index({ conversationKey: 1, seq: 1 }, { unique: true });
// The dispatcher's poll: due messages by status.
outboundMessageSchema.index({ status: 1, nextAttemptAt: 1 });
// Delivery state of a case's answers in the console; dead letters per case.
outboundMessageSchema.index({ caseReference: 1, createdAt: 1 });
outboundMessageSchema.index({ expireAt: 1 }, { expireAfterSeconds: 0 });
