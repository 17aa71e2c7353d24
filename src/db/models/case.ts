import { Schema, type Types } from 'mongoose';
import type { Lang } from '../../nlu/catalog.js';
import {
  actorSchema,
  attachmentSchema,
  CHANNEL_PATTERN,
  KEY_PATTERN,
  langField,
  type ActorRecord,
  type AttachmentRef,
} from './common.js';

/** What brought the case into a queue. */
export const CASE_KINDS = ['complaint', 'handoff', 'suggestion', 'erasure'] as const;
export type CaseKind = (typeof CASE_KINDS)[number];

/**
 * The lifecycle: open (waiting in its department's queue) → assigned (an official claimed it) →
 * waiting_on_citizen (the official asked the citizen something) → resolved (answered; the citizen is
 * asked for a rating) → closed (done). Release puts an assigned case back to open; reopen brings a
 * resolved or closed case back.
 */
export const CASE_STATUSES = ['open', 'assigned', 'waiting_on_citizen', 'resolved', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

/** Statuses in which a case is still being handled: the citizen's messages go to the case. */
export const LIVE_STATUSES = [
  'open',
  'assigned',
  'waiting_on_citizen',
] as const satisfies readonly CaseStatus[];

/** Who wrote a transcript entry. */
export const TRANSCRIPT_FROM = ['citizen', 'bot', 'official', 'system'] as const;
export type TranscriptFrom = (typeof TRANSCRIPT_FROM)[number];

/** Where the problem is: what the citizen typed, a shared pin, or both. */
export interface CaseLocation {
  text?: string;
  lat?: number;
  lng?: number;
}

/** The complaint form's answers. Everything here is the citizen's words: personal data. */
export interface CaseFields {
  description?: string;
  location?: CaseLocation;
  photos: AttachmentRef[];
  name?: string;
  contact?: string;
}

/** One message of the conversation between the citizen, the bot and officials. */
export interface TranscriptEntry {
  from: TranscriptFrom;
  text: string;
  at: Date;
  attachments: AttachmentRef[];
  /** The outbox message that carries this entry to the citizen (for delivery state in the console). */
  outboxId?: Types.ObjectId;
  officialId?: string;
}

/** An official's internal note: never shown to the citizen. */
export interface CaseNote {
  officialId: string;
  text: string;
  at: Date;
}

/** One change of status, department or assignee, with who and when. */
export interface CaseHistoryEntry {
  action: string;
  from?: CaseStatus;
  to: CaseStatus;
  by: ActorRecord;
  at: Date;
  department?: string;
  assignee?: string;
  note?: string;
}

/** A case: what the bot could not settle, waiting in (or taken from) a department's queue. */
export interface Case {
  /** Human-friendly, unique: "C-" + 6 characters without ambiguous ones (see `src/cases/reference.ts`). */
  reference: string;
  kind: CaseKind;
  category: string;
  department: string;
  status: CaseStatus;
  /** Higher is claimed first; the SLA sweeper raises it when a case becomes overdue. */
  priority: number;
  slaDueAt: Date;
  overdue: boolean;
  /** The official's id while the case is assigned (or after, for who resolved it). */
  assignee?: string;
  assignedAt?: Date;
  citizen?: Types.ObjectId;
  channel: string;
  /** An anonymous case keeps only what is needed to reply on the same channel; officials see no identity. */
  anonymous: boolean;
  fields: CaseFields;
  lang: Lang;
  transcript: TranscriptEntry[];
  notes: CaseNote[];
  history: CaseHistoryEntry[];
  rating?: number;
  firstResponseAt?: Date;
  resolvedAt?: Date;
  resolutionNote?: string;
  closedAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** A case as read back from the database. */
export type CaseRecord = Case & { _id: Types.ObjectId };

const locationSchema = new Schema<CaseLocation>(
  {
    text: { type: String },
    lat: { type: Number, min: -90, max: 90 },
    lng: { type: Number, min: -180, max: 180 },
  },
  { _id: false },
);

const fieldsSchema = new Schema<CaseFields>(
  {
    description: { type: String },
    location: { type: locationSchema },
    photos: { type: [attachmentSchema], default: [] },
    name: { type: String },
    contact: { type: String },
  },
  { _id: false },
);

// Transcript entries and notes keep their own _id so the console can address and de-duplicate them.
const transcriptSchema = new Schema<TranscriptEntry>({
  from: { type: String, enum: TRANSCRIPT_FROM, required: true },
  text: { type: String, default: '' },
  at: { type: Date, required: true },
  attachments: { type: [attachmentSchema], default: [] },
  outboxId: { type: Schema.Types.ObjectId },
  officialId: { type: String },
});

const noteSchema = new Schema<CaseNote>({
  officialId: { type: String, required: true },
  text: { type: String, required: true },
  at: { type: Date, required: true },
});

const historySchema = new Schema<CaseHistoryEntry>(
  {
    action: { type: String, required: true },
    from: { type: String, enum: CASE_STATUSES },
    to: { type: String, enum: CASE_STATUSES, required: true },
    by: { type: actorSchema, required: true },
    at: { type: Date, required: true },
    department: { type: String },
    assignee: { type: String },
    note: { type: String },
  },
  { _id: false },
);

export const caseSchema = new Schema<Case>(
  {
    reference: { type: String, required: true, match: /^C-[2-9A-HJKMNP-Z]{6}$/ },
    kind: { type: String, enum: CASE_KINDS, required: true },
    category: { type: String, required: true, match: KEY_PATTERN },
    department: { type: String, required: true, match: KEY_PATTERN },
    status: { type: String, enum: CASE_STATUSES, required: true, default: 'open' },
    priority: { type: Number, required: true, default: 0 },
    slaDueAt: { type: Date, required: true },
    overdue: { type: Boolean, required: true, default: false },
    assignee: { type: String },
    assignedAt: { type: Date },
    citizen: { type: Schema.Types.ObjectId, ref: 'Citizen' },
    channel: { type: String, required: true, match: CHANNEL_PATTERN },
    anonymous: { type: Boolean, required: true, default: false },
    fields: { type: fieldsSchema, default: () => ({ photos: [] }) },
    lang: langField,
    transcript: { type: [transcriptSchema], default: [] },
    notes: { type: [noteSchema], default: [] },
    history: { type: [historySchema], default: [] },
    rating: { type: Number, min: 1, max: 5, validate: Number.isInteger },
    firstResponseAt: { type: Date },
    resolvedAt: { type: Date },
    resolutionNote: { type: String },
    closedAt: { type: Date },
  },
  { timestamps: true, collection: 'cases' },
);

caseSchema.index({ reference: 1 }, { unique: true });
// claim-next: the open cases of one department, highest priority first, then oldest (then _id, the
// tie-break claimNext sorts on), so the claim walks the index instead of sorting the queue in memory.
caseSchema.index({ department: 1, status: 1, priority: -1, createdAt: 1, _id: 1 });
// The SLA sweeper: live cases not yet marked overdue whose due time has passed.
caseSchema.index({ overdue: 1, status: 1, slaDueAt: 1 });
// "Does this citizen have a live case?" on every inbound message, and "my cases" for case status.
caseSchema.index({ citizen: 1, status: 1 });
// An official's own cases in the console.
caseSchema.index({ assignee: 1, status: 1 });
// Public statistics per month and category.
caseSchema.index({ createdAt: 1, category: 1 });
