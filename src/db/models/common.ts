import { Schema } from 'mongoose';
import { LANGS, type Lang } from '../../nlu/catalog.js';

/**
 * Who did something to a case or in the audit log. Officials are named by id; a citizen acts on
 * their own case and the system (SLA sweeper, retention) has no id.
 */
export type Actor = { kind: 'official'; id: string } | { kind: 'citizen' } | { kind: 'system' };

/** Stored shape of an {@link Actor}: `id` only for officials. */
export interface ActorRecord {
  kind: Actor['kind'];
  id?: string;
}

export const actorSchema = new Schema<ActorRecord>(
  {
    kind: { type: String, enum: ['official', 'citizen', 'system'], required: true },
    id: { type: String },
  },
  { _id: false },
);

/** Turns an {@link Actor} into what is stored (no `undefined` keys in the document). */
export function actorRecord(actor: Actor): ActorRecord {
  return actor.kind === 'official' ? { kind: 'official', id: actor.id } : { kind: actor.kind };
}

/**
 * A time-limited claim on a piece of work (an inbound message, an outbound message, a named job), so
 * that several app instances share work without in-memory locks: whoever holds an unexpired lease
 * owns the work; an expired lease may be taken over.
 */
export interface LeaseRecord {
  owner: string;
  until: Date;
}

/** The filter part "no lease, or one that has run out at `now`": a document free to be taken. */
export function leaseFree(now: Date): { $or: Record<string, unknown>[] } {
  return { $or: [{ lease: { $exists: false } }, { lease: null }, { 'lease.until': { $lte: now } }] };
}

export const leaseSchema = new Schema<LeaseRecord>(
  {
    owner: { type: String, required: true },
    until: { type: Date, required: true },
  },
  { _id: false },
);

/**
 * A reference to a file a citizen or an official sent (a photo of a pothole…). The bytes stay on the
 * platform or in a file store; the database keeps only what is needed to fetch or show them again.
 */
export interface AttachmentRef {
  contentType: string;
  /** Where the file can be fetched, when the platform gives a URL. */
  url?: string;
  /** The platform's own file id (e.g. a Telegram `file_id`), when it gives one instead of a URL. */
  fileId?: string;
  name?: string;
}

export const attachmentSchema = new Schema<AttachmentRef>(
  {
    contentType: { type: String, required: true },
    url: { type: String },
    fileId: { type: String },
    name: { type: String },
  },
  { _id: false },
);

/** A channel id ("telegram", "whatsapp", "web"…): a lowercase key, so that indexes stay exact. */
export const CHANNEL_PATTERN = /^[a-z][a-z0-9_-]*$/;

/** A department, category or other configuration key: lowercase, digits and underscores. */
export const KEY_PATTERN = /^[a-z][a-z0-9_]*$/;

/** Schema options for a language field limited to the content pack's languages. */
export const langField = { type: String, enum: LANGS as readonly Lang[], required: true } as const;
