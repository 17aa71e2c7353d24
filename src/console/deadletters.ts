import type { Types } from 'mongoose';
import type { Db } from '../db/connection.js';
import type { OutboundMessageRecord } from '../db/models/index.js';
import { replySchema, toPlainText } from '../engine/replies.js';

/** A message the outbox gave up on, as officials see it: never the citizen's platform address. */
export interface DeadLetterView {
  id: string;
  caseReference: string;
  department: string;
  channel: string;
  /** The reply as plain text, or null if the stored reply no longer parses. */
  text: string | null;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

type DeadRow = Pick<
  OutboundMessageRecord,
  '_id' | 'caseReference' | 'channel' | 'reply' | 'attempts' | 'lastError' | 'createdAt' | 'updatedAt'
>;

function textOf(reply: Record<string, unknown>): string | null {
  const parsed = replySchema.safeParse(reply);
  return parsed.success ? toPlainText(parsed.data) : null;
}

/**
 * Dead letters of cases in `departments`, newest first. Messages that belong to no case (the bot's
 * own chat replies) are not listed: nothing ties them to a department, so no official may see them.
 */
export async function deadLetters(
  db: Pick<Db, 'OutboundMessage' | 'Case'>,
  departments: string[],
  opts: { reference?: string | undefined; id?: Types.ObjectId; limit?: number } = {},
): Promise<DeadLetterView[]> {
  const limit = opts.limit ?? 100;
  // Join each dead message to its case, so the department filter applies before the limit.
  const rows = await db.OutboundMessage.aggregate<DeadRow & { case: { department: string }[] }>([
    {
      $match: {
        status: 'dead',
        ...(opts.id !== undefined ? { _id: opts.id } : {}),
        caseReference: opts.reference ?? { $exists: true },
      },
    },
    { $sort: { updatedAt: -1 } },
    {
      $lookup: {
        from: db.Case.collection.collectionName,
        localField: 'caseReference',
        foreignField: 'reference',
        as: 'case',
        pipeline: [{ $project: { department: 1 } }],
      },
    },
    { $match: { 'case.department': { $in: departments } } },
    { $limit: limit },
    {
      $project: {
        caseReference: 1,
        channel: 1,
        reply: 1,
        attempts: 1,
        lastError: 1,
        createdAt: 1,
        updatedAt: 1,
        case: 1,
      },
    },
  ]);
  const out: DeadLetterView[] = [];
  for (const r of rows) {
    const department = r.case[0]?.department;
    if (r.caseReference === undefined || department === undefined) continue;
    out.push({
      id: r._id.toHexString(),
      caseReference: r.caseReference,
      department,
      channel: r.channel,
      text: textOf(r.reply),
      attempts: r.attempts,
      lastError: r.lastError ?? null,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
    });
  }
  return out;
}
