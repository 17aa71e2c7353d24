import type { Types, UpdateQuery } from 'mongoose';
import type { Lang } from '../nlu/catalog.js';
import type { Db } from '../db/connection.js';
import {
  actorRecord,
  DEFAULT_CATEGORY_ROUTES,
  FALLBACK_DEPARTMENT,
  LIVE_STATUSES,
  type Actor,
  type AttachmentRef,
  type Case,
  type CaseFields,
  type CaseHistoryEntry,
  type CaseKind,
  type CaseRecord,
  type CaseStatus,
  type TranscriptFrom,
} from '../db/models/index.js';
import { isDuplicateKeyError } from '../db/models/sequence.js';
import { CaseError } from './errors.js';
import { generateReference } from './reference.js';

/** What the case functions need of the database: the models they touch. */
export type CaseDb = Pick<Db, 'Case' | 'Department' | 'CategoryRoute'>;

/** One transcript message as callers give it; `at` defaults to now and `attachments` to none. */
export interface TranscriptInput {
  from: TranscriptFrom;
  text: string;
  at?: Date;
  attachments?: AttachmentRef[];
  outboxId?: Types.ObjectId;
  officialId?: string;
}

/** What a new case is made of. */
export interface NewCase {
  kind: CaseKind;
  category: string;
  /** The queue; by default the department the category is routed to. */
  department?: string;
  channel: string;
  citizen?: Types.ObjectId;
  anonymous?: boolean;
  lang: Lang;
  priority?: number;
  fields?: Partial<CaseFields>;
  /** The conversation so far (a handoff carries what the bot could not understand). */
  transcript?: TranscriptInput[];
  /** Creation time (default now): the SLA runs from it. */
  now?: Date;
}

const MAX_REFERENCE_ATTEMPTS = 5;
const MAX_TRANSITION_ATTEMPTS = 5;
const HOUR_MS = 3_600_000;

/**
 * The department that receives cases of `category`: the admin-editable route in the database, else
 * the seeded default, else citizen services (where a human triages and transfers).
 */
export async function routeCategory(db: Pick<Db, 'CategoryRoute'>, category: string): Promise<string> {
  const route = await db.CategoryRoute.findOne({ category }).lean();
  return route?.department ?? DEFAULT_CATEGORY_ROUTES[category] ?? FALLBACK_DEPARTMENT;
}

async function slaHoursOf(db: Pick<Db, 'Department'>, department: string): Promise<number> {
  const found = await db.Department.findOne({ key: department }).lean();
  if (found === null) throw new CaseError('DEPARTMENT_NOT_FOUND');
  return found.slaHours;
}

function transcriptEntry(input: TranscriptInput, now: Date): Case['transcript'][number] {
  return {
    from: input.from,
    text: input.text,
    at: input.at ?? now,
    attachments: input.attachments ?? [],
    ...(input.outboxId !== undefined ? { outboxId: input.outboxId } : {}),
    ...(input.officialId !== undefined ? { officialId: input.officialId } : {}),
  };
}

/**
 * Creates a case, open in its department's queue, with a fresh reference and its SLA due time
 * (creation + the department's `slaHours`). References are random; the rare collision with an
 * existing one (E11000 on the unique index) is retried with a new draw. `options.drawReference`
 * replaces the random draw (tests use it to force a collision).
 *
 * @example
 * ```ts
 * const c = await createCase(db, {
 *   kind: 'complaint', category: 'lighting', channel: 'telegram', citizen: citizen._id, lang: 'fr',
 *   fields: { description: 'lampadaire cassé', location: { text: 'rue Haute 4' } },
 * });
 * // c.reference === 'C-7K4P9Q', c.department === 'public_works', c.status === 'open'
 * ```
 */
export async function createCase(
  db: CaseDb,
  input: NewCase,
  options: { drawReference?: () => string } = {},
): Promise<CaseRecord> {
  const draw = options.drawReference ?? generateReference;
  const now = input.now ?? new Date();
  const department = input.department ?? (await routeCategory(db, input.category));
  const slaHours = await slaHoursOf(db, department);
  const base = {
    kind: input.kind,
    category: input.category,
    department,
    status: 'open' as const,
    priority: input.priority ?? 0,
    slaDueAt: new Date(now.getTime() + slaHours * HOUR_MS),
    overdue: false,
    channel: input.channel,
    anonymous: input.anonymous ?? false,
    fields: { photos: [], ...input.fields },
    lang: input.lang,
    transcript: (input.transcript ?? []).map((t) => transcriptEntry(t, now)),
    notes: [],
    history: [
      { action: 'create', to: 'open' as const, by: { kind: 'system' as const }, at: now, department },
    ],
    createdAt: now,
    updatedAt: now,
    ...(input.citizen !== undefined ? { citizen: input.citizen } : {}),
  };
  for (let attempt = 0; attempt < MAX_REFERENCE_ATTEMPTS; attempt++) {
    try {
      const [created] = await db.Case.insertMany([{ ...base, reference: draw() }], {
        // Keep the caller's `now` as createdAt: claim order and the SLA are measured from it.
        timestamps: false,
      });
      if (created === undefined) break;
      return created.toObject<CaseRecord>();
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
  }
  throw new CaseError('REFERENCE_EXHAUSTED');
}

/** The case with this reference, or `null`. */
export async function findCase(db: Pick<Db, 'Case'>, reference: string): Promise<CaseRecord | null> {
  return db.Case.findOne({ reference }).lean<CaseRecord>();
}

/**
 * The citizen's live case (open, assigned or waiting on them), newest first, or `null`: while there is
 * one, the citizen's messages go to it rather than to the bot.
 */
export async function liveCaseOf(db: Pick<Db, 'Case'>, citizen: Types.ObjectId): Promise<CaseRecord | null> {
  return db.Case.findOne({ citizen, status: { $in: LIVE_STATUSES } })
    .sort({ createdAt: -1 })
    .lean<CaseRecord>();
}

/**
 * Claims the next case of `department` for `officialId`: the open case with the highest priority,
 * and among those the oldest. One atomic findOneAndUpdate, so concurrent claimers (in any number of
 * processes) never get the same case. Returns `null` when the queue is empty.
 */
export async function claimNext(
  db: Pick<Db, 'Case'>,
  department: string,
  officialId: string,
  now: Date = new Date(),
): Promise<CaseRecord | null> {
  return db.Case.findOneAndUpdate(
    { department, status: 'open' },
    {
      $set: { status: 'assigned', assignee: officialId, assignedAt: now },
      $push: {
        history: historyEntry('claim', 'open', 'assigned', { kind: 'official', id: officialId }, now),
      },
    },
    { sort: { priority: -1, createdAt: 1, _id: 1 }, returnDocument: 'after' },
  ).lean<CaseRecord>();
}

function historyEntry(
  action: string,
  from: CaseStatus | undefined,
  to: CaseStatus,
  by: Actor,
  at: Date,
  extra: Partial<Pick<CaseHistoryEntry, 'department' | 'assignee' | 'note'>> = {},
): CaseHistoryEntry {
  return { action, ...(from !== undefined ? { from } : {}), to, by: actorRecord(by), at, ...extra };
}

/** The part of a case a transition decides on. */
type Snapshot = Pick<CaseRecord, '_id' | 'status' | 'department' | 'assignee' | 'rating'>;

function isLive(status: CaseStatus): boolean {
  return (LIVE_STATUSES as readonly CaseStatus[]).includes(status);
}

/**
 * Applies a status transition with compare-and-set: read the case's state, let `decide` check the
 * transition (throwing a precise {@link CaseError}) and build the update, then write it only if the
 * state is still the one decided on. A concurrent change makes the write match nothing, and the
 * transition is decided again on the new state, so two officials acting at once cannot both win.
 */
async function transition(
  db: Pick<Db, 'Case'>,
  reference: string,
  decide: (current: Snapshot) => UpdateQuery<Case>,
): Promise<CaseRecord> {
  for (let attempt = 0; attempt < MAX_TRANSITION_ATTEMPTS; attempt++) {
    const current = await db.Case.findOne({ reference })
      .select({ status: 1, department: 1, assignee: 1, rating: 1 })
      .lean<Snapshot>();
    if (current === null) throw new CaseError('CASE_NOT_FOUND', reference);
    const update = decide(current);
    const updated = await db.Case.findOneAndUpdate(
      {
        _id: current._id,
        status: current.status,
        department: current.department,
        // `null` also matches an absent field, as an unassigned case has.
        assignee: current.assignee ?? null,
        rating: current.rating ?? null,
      },
      update,
      { returnDocument: 'after', runValidators: true },
    ).lean<CaseRecord>();
    if (updated !== null) return updated;
  }
  // Still contended after several rounds: let the caller reload rather than loop forever.
  throw new CaseError('CASE_CONFLICT', reference);
}

function assertLive(current: Snapshot, reference: string): void {
  if (!isLive(current.status)) throw new CaseError('CASE_RESOLVED', reference);
}

/** Claims a given open case for `officialId` (from the console's queue list). */
export async function claimCase(
  db: Pick<Db, 'Case'>,
  reference: string,
  officialId: string,
  now: Date = new Date(),
): Promise<CaseRecord> {
  return transition(db, reference, (current) => {
    assertLive(current, reference);
    if (current.status !== 'open') throw new CaseError('CASE_NOT_CLAIMABLE', reference);
    return {
      $set: { status: 'assigned', assignee: officialId, assignedAt: now },
      $push: {
        history: historyEntry('claim', 'open', 'assigned', { kind: 'official', id: officialId }, now),
      },
    };
  });
}

/**
 * Assigns a live case to `officialId`, whoever held it (a supervisor's reassignment; the API checks
 * that `by` may do it).
 */
export async function assign(
  db: Pick<Db, 'Case'>,
  reference: string,
  officialId: string,
  by: Actor,
  now: Date = new Date(),
): Promise<CaseRecord> {
  return transition(db, reference, (current) => {
    assertLive(current, reference);
    return {
      $set: { status: 'assigned', assignee: officialId, assignedAt: now },
      $push: {
        history: historyEntry('assign', current.status, 'assigned', by, now, { assignee: officialId }),
      },
    };
  });
}

/** The assignee gives their case back to the department's queue (status open, no assignee). */
export async function release(
  db: Pick<Db, 'Case'>,
  reference: string,
  officialId: string,
  now: Date = new Date(),
): Promise<CaseRecord> {
  return transition(db, reference, (current) => {
    assertLive(current, reference);
    if (current.status === 'open' || current.assignee !== officialId) {
      throw new CaseError('CASE_NOT_ASSIGNED', reference);
    }
    return backToQueue('release', current.status, { kind: 'official', id: officialId }, now);
  });
}

/**
 * Puts a live case back into its department's queue, whoever held it (a supervisor freeing the cases
 * of an official who left, or the system). An open case stays as it is.
 */
export async function enqueue(
  db: Pick<Db, 'Case'>,
  reference: string,
  by: Actor,
  now: Date = new Date(),
): Promise<CaseRecord> {
  return transition(db, reference, (current) => {
    assertLive(current, reference);
    if (current.status === 'open') return {};
    return backToQueue('enqueue', current.status, by, now);
  });
}

function backToQueue(action: string, from: CaseStatus, by: Actor, now: Date): UpdateQuery<Case> {
  return {
    $set: { status: 'open' },
    $unset: { assignee: 1, assignedAt: 1 },
    $push: { history: historyEntry(action, from, 'open', by, now) },
  };
}

/** The assignee asked the citizen something: the case waits on the citizen's answer. */
export async function awaitCitizen(
  db: Pick<Db, 'Case'>,
  reference: string,
  by: Actor,
  now: Date = new Date(),
): Promise<CaseRecord> {
  return transition(db, reference, (current) => {
    assertLive(current, reference);
    if (current.status === 'open') throw new CaseError('CASE_NOT_ASSIGNED', reference);
    if (current.status === 'waiting_on_citizen') return {};
    return {
      $set: { status: 'waiting_on_citizen' },
      $push: { history: historyEntry('await_citizen', current.status, 'waiting_on_citizen', by, now) },
    };
  });
}

/**
 * Moves a live case to another department's queue: open there, unassigned. The SLA due time is kept:
 * the citizen was promised an answer time when they filed, and a transfer does not change it.
 */
export async function transfer(
  db: Pick<Db, 'Case' | 'Department'>,
  reference: string,
  department: string,
  by: Actor,
  now: Date = new Date(),
): Promise<CaseRecord> {
  if ((await db.Department.exists({ key: department })) === null) throw new CaseError('DEPARTMENT_NOT_FOUND');
  return transition(db, reference, (current) => {
    assertLive(current, reference);
    if (current.department === department) throw new CaseError('CASE_SAME_DEPARTMENT', reference);
    return {
      $set: { status: 'open', department },
      $unset: { assignee: 1, assignedAt: 1 },
      $push: { history: historyEntry('transfer', current.status, 'open', by, now, { department }) },
    };
  });
}

/**
 * Resolves a live case with a resolution note (the citizen is told and asked for a rating by the
 * caller). An official resolving an unassigned case becomes its assignee, so statistics know who did.
 */
export async function resolve(
  db: Pick<Db, 'Case'>,
  reference: string,
  note: string,
  by: Actor,
  now: Date = new Date(),
): Promise<CaseRecord> {
  return transition(db, reference, (current) => {
    assertLive(current, reference);
    const assignee = current.assignee ?? (by.kind === 'official' ? by.id : undefined);
    return {
      $set: {
        status: 'resolved',
        resolvedAt: now,
        resolutionNote: note,
        ...(assignee !== undefined ? { assignee } : {}),
      },
      $push: { history: historyEntry('resolve', current.status, 'resolved', by, now, { note }) },
    };
  });
}

/** Closes a resolved case (the citizen rated it, or the rating window passed). */
export async function close(
  db: Pick<Db, 'Case'>,
  reference: string,
  by: Actor,
  now: Date = new Date(),
): Promise<CaseRecord> {
  return transition(db, reference, (current) => {
    if (current.status !== 'resolved') throw new CaseError('CASE_NOT_RESOLVED', reference);
    return {
      $set: { status: 'closed', closedAt: now },
      $push: { history: historyEntry('close', 'resolved', 'closed', by, now) },
    };
  });
}

/**
 * Reopens a resolved or closed case. An official reopening it (to answer again) gets it assigned;
 * anyone else puts it back into its queue. The SLA restarts from now and the previous resolution,
 * rating and overdue mark are cleared (they stay in the history).
 */
export async function reopen(
  db: Pick<Db, 'Case' | 'Department'>,
  reference: string,
  by: Actor,
  now: Date = new Date(),
): Promise<CaseRecord> {
  const existing = await findCase(db, reference);
  if (existing === null) throw new CaseError('CASE_NOT_FOUND', reference);
  const slaHours = await slaHoursOf(db, existing.department);
  return transition(db, reference, (current) => {
    if (isLive(current.status)) throw new CaseError('CASE_NOT_RESOLVED', reference);
    const to: CaseStatus = by.kind === 'official' ? 'assigned' : 'open';
    return {
      $set: {
        status: to,
        overdue: false,
        slaDueAt: new Date(now.getTime() + slaHours * HOUR_MS),
        ...(by.kind === 'official' ? { assignee: by.id, assignedAt: now } : {}),
      },
      $unset: {
        resolvedAt: 1,
        resolutionNote: 1,
        closedAt: 1,
        rating: 1,
        ...(by.kind === 'official' ? {} : { assignee: 1, assignedAt: 1 }),
      },
      $push: { history: historyEntry('reopen', current.status, to, by, now) },
    };
  });
}

/**
 * Appends a message to the case's transcript. Citizens' and officials' messages need a live case (a
 * resolved case is reopened before it is answered); a citizen's answer to a case waiting on them puts
 * it back to assigned. An official's first message sets `firstResponseAt`.
 */
export async function addTranscript(
  db: Pick<Db, 'Case'>,
  reference: string,
  input: TranscriptInput,
  now: Date = new Date(),
): Promise<CaseRecord> {
  const entry = transcriptEntry(input, now);
  let updated: CaseRecord | null = null;
  if (input.from === 'citizen') {
    updated = await db.Case.findOneAndUpdate(
      { reference, status: 'waiting_on_citizen' },
      {
        $set: { status: 'assigned' },
        $push: {
          transcript: entry,
          history: historyEntry('citizen_answer', 'waiting_on_citizen', 'assigned', { kind: 'citizen' }, now),
        },
      },
      { returnDocument: 'after' },
    ).lean<CaseRecord>();
  }
  if (updated === null) {
    const needsLive = input.from === 'citizen' || input.from === 'official';
    updated = await db.Case.findOneAndUpdate(
      needsLive ? { reference, status: { $in: LIVE_STATUSES } } : { reference },
      {
        $push: { transcript: entry },
        // $min sets it when absent and never moves it later: the first answer wins.
        ...(input.from === 'official' ? { $min: { firstResponseAt: entry.at } } : {}),
      },
      { returnDocument: 'after' },
    ).lean<CaseRecord>();
  }
  if (updated !== null) return updated;
  if ((await db.Case.exists({ reference })) === null) throw new CaseError('CASE_NOT_FOUND', reference);
  throw new CaseError('CASE_RESOLVED', reference);
}

/** Adds an internal note (never shown to the citizen); allowed in any status. */
export async function addNote(
  db: Pick<Db, 'Case'>,
  reference: string,
  officialId: string,
  text: string,
  now: Date = new Date(),
): Promise<CaseRecord> {
  const updated = await db.Case.findOneAndUpdate(
    { reference },
    { $push: { notes: { officialId, text, at: now } } },
    { returnDocument: 'after', runValidators: true },
  ).lean<CaseRecord>();
  if (updated === null) throw new CaseError('CASE_NOT_FOUND', reference);
  return updated;
}

/**
 * Records the citizen's satisfaction rating (a whole number 1–5) of a resolved or closed case, once;
 * rating a resolved case closes it.
 */
export async function rate(
  db: Pick<Db, 'Case'>,
  reference: string,
  rating: number,
  now: Date = new Date(),
): Promise<CaseRecord> {
  if (!Number.isInteger(rating) || rating < 1 || rating > 5) throw new CaseError('INVALID_RATING', reference);
  return transition(db, reference, (current) => {
    if (isLive(current.status)) throw new CaseError('CASE_NOT_RESOLVED', reference);
    if (current.rating !== undefined && current.rating !== null) {
      throw new CaseError('CASE_ALREADY_RATED', reference);
    }
    if (current.status === 'closed') return { $set: { rating } };
    return {
      $set: { rating, status: 'closed', closedAt: now },
      $push: { history: historyEntry('rate', 'resolved', 'closed', { kind: 'citizen' }, now) },
    };
  });
}
