import type { Types } from 'mongoose';
import type { Db } from '../db/connection.js';
import {
  LIVE_STATUSES,
  type AttachmentRef,
  type CaseRecord,
  type CaseStatus,
  type OutboundStatus,
} from '../db/models/index.js';
import type { Principal } from './auth.js';

/** SLA state of a live case: overdue, due within a quarter of its allowance, or on time. */
export type SlaState = 'ok' | 'due_soon' | 'overdue' | 'done';

export function slaState(
  c: Pick<CaseRecord, 'status' | 'overdue' | 'slaDueAt' | 'createdAt'>,
  now: Date,
): SlaState {
  if (!(LIVE_STATUSES as readonly CaseStatus[]).includes(c.status)) return 'done';
  if (c.overdue || c.slaDueAt <= now) return 'overdue';
  const allowance = c.slaDueAt.getTime() - c.createdAt.getTime();
  return c.slaDueAt.getTime() - now.getTime() <= allowance / 4 ? 'due_soon' : 'ok';
}

/** The departments whose cases an official sees: all of them for an admin, else their own. */
export async function scopeOf(
  db: Pick<Db, 'Department'>,
  who: Pick<Principal, 'role' | 'departments'>,
): Promise<string[]> {
  if (who.role === 'admin') return (await db.Department.find().select({ key: 1 }).lean()).map((d) => d.key);
  return who.departments;
}

/** One queue's figures, as the console's queue list and `GET /api/v1/queues` show them. */
export interface QueueView {
  department: string;
  waiting: number;
  assigned: number;
  overdue: number;
  mine: number;
  oldestWaitingSince: string | null;
}

export async function queueView(
  db: Pick<Db, 'Case'>,
  department: string,
  officialId: string,
  now: Date,
): Promise<QueueView> {
  const live = { department, status: { $in: LIVE_STATUSES } };
  const [waiting, assigned, overdue, mine, oldest] = await Promise.all([
    db.Case.countDocuments({ department, status: 'open' }),
    db.Case.countDocuments({ department, status: { $in: ['assigned', 'waiting_on_citizen'] } }),
    db.Case.countDocuments({ ...live, $or: [{ overdue: true }, { slaDueAt: { $lte: now } }] }),
    db.Case.countDocuments({ ...live, assignee: officialId }),
    db.Case.findOne({ department, status: 'open' }).sort({ createdAt: 1 }).select({ createdAt: 1 }).lean(),
  ]);
  return {
    department,
    waiting,
    assigned,
    overdue,
    mine,
    oldestWaitingSince: oldest ? oldest.createdAt.toISOString() : null,
  };
}

/** A case in a list: no transcript, no personal data. */
export interface CaseSummary {
  reference: string;
  kind: string;
  category: string;
  department: string;
  status: CaseStatus;
  priority: number;
  lang: string;
  channel: string;
  anonymous: boolean;
  assignee: string | null;
  sla: SlaState;
  slaDueAt: string;
  createdAt: string;
  updatedAt: string;
}

export function caseSummary(c: CaseRecord, now: Date): CaseSummary {
  return {
    reference: c.reference,
    kind: c.kind,
    category: c.category,
    department: c.department,
    status: c.status,
    priority: c.priority,
    lang: c.lang,
    channel: c.channel,
    anonymous: c.anonymous,
    assignee: c.assignee ?? null,
    sla: slaState(c, now),
    slaDueAt: c.slaDueAt.toISOString(),
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

function attachmentView(a: AttachmentRef): { contentType: string; url?: string; name?: string } {
  return {
    contentType: a.contentType,
    ...(a.url ? { url: a.url } : {}),
    ...(a.name ? { name: a.name } : {}),
  };
}

/**
 * The whole case for the console: transcript with each official answer's delivery state, fields,
 * notes and history, with officials named. An anonymous case shows no name or contact, and no case
 * ever shows the citizen's platform identity (the API has no field for it).
 */
export async function caseDetail(db: Pick<Db, 'OutboundMessage' | 'Official'>, c: CaseRecord, now: Date) {
  const outboxIds = c.transcript.flatMap((t) => (t.outboxId ? [t.outboxId] : []));
  const deliveries = new Map<string, { status: OutboundStatus; sentAt?: Date; attempts: number }>();
  if (outboxIds.length > 0) {
    const found = await db.OutboundMessage.find({ _id: { $in: outboxIds } })
      .select({ status: 1, sentAt: 1, attempts: 1 })
      .lean<{ _id: Types.ObjectId; status: OutboundStatus; sentAt?: Date; attempts: number }[]>();
    for (const o of found) deliveries.set(o._id.toHexString(), o);
  }
  const officialIds = new Set<string>([
    ...c.transcript.flatMap((t) => (t.officialId ? [t.officialId] : [])),
    ...c.notes.map((n) => n.officialId),
    ...c.history.flatMap((h) => [h.by.id, h.assignee].filter((x): x is string => typeof x === 'string')),
    ...(c.assignee ? [c.assignee] : []),
  ]);
  const valid = [...officialIds].filter((id) => /^[0-9a-f]{24}$/.test(id));
  const names: Record<string, string> = {};
  if (valid.length > 0) {
    for (const o of await db.Official.find({ _id: { $in: valid } })
      .select({ name: 1 })
      .lean()) {
      names[o._id.toHexString()] = o.name;
    }
  }
  const { name, contact, ...facts } = c.fields;
  return {
    ...caseSummary(c, now),
    officials: names,
    fields: {
      ...(facts.description !== undefined ? { description: facts.description } : {}),
      ...(facts.location !== undefined ? { location: facts.location } : {}),
      photos: facts.photos.map(attachmentView),
      ...(c.anonymous
        ? {}
        : { ...(name !== undefined ? { name } : {}), ...(contact !== undefined ? { contact } : {}) }),
    },
    transcript: c.transcript.map((t) => {
      const delivery = t.outboxId ? deliveries.get(t.outboxId.toHexString()) : undefined;
      return {
        from: t.from,
        text: t.text,
        at: t.at.toISOString(),
        attachments: t.attachments.map(attachmentView),
        ...(t.officialId ? { officialId: t.officialId } : {}),
        ...(t.outboxId
          ? {
              delivery: {
                status: delivery?.status ?? 'pending',
                ...(delivery?.sentAt ? { sentAt: delivery.sentAt.toISOString() } : {}),
              },
            }
          : {}),
      };
    }),
    notes: c.notes.map((n) => ({ officialId: n.officialId, text: n.text, at: n.at.toISOString() })),
    history: c.history.map((h) => ({
      action: h.action,
      ...(h.from ? { from: h.from } : {}),
      to: h.to,
      by: h.by.id ? { kind: h.by.kind, id: h.by.id } : { kind: h.by.kind },
      at: h.at.toISOString(),
      ...(h.department ? { department: h.department } : {}),
      ...(h.assignee ? { assignee: h.assignee } : {}),
      ...(h.note ? { note: h.note } : {}),
    })),
    rating: c.rating ?? null,
    firstResponseAt: c.firstResponseAt?.toISOString() ?? null,
    resolvedAt: c.resolvedAt?.toISOString() ?? null,
    resolutionNote: c.resolutionNote ?? null,
  };
}
