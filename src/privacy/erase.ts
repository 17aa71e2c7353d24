import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { chainedAuditWriter, type AuditWriter } from '../console/audit.js';
import type { Db } from '../db/connection.js';
import {
  actorRecord,
  LIVE_STATUSES,
  type Actor,
  type CaseHistoryEntry,
  type CaseStatus,
} from '../db/models/index.js';

/** The collections an erasure touches. */
export type ErasureDb = Pick<
  Db,
  'Citizen' | 'Case' | 'InboundMessage' | 'OutboundMessage' | 'StateItem' | 'Sequence' | 'AuditEvent'
>;

/** Options of {@link eraseCitizenData} and {@link eraseCaseData}. */
export interface ErasureOptions {
  /** Who erased: the citizen themselves, an official handling a written request, or retention. */
  by: Actor;
  /** Why, for the audit log (never personal data). */
  reason?: 'request' | 'retention';
  /** Where the `erased` audit event goes (default: the hash-chained audit log). */
  audit?: AuditWriter;
  now?: Date;
}

/** What an erasure removed, by kind: counts only, so it can be logged and audited. */
export interface ErasureReport {
  citizens: number;
  cases: number;
  inboundMessages: number;
  outboundMessages: number;
  stateItems: number;
}

const EMPTY_REPORT: ErasureReport = {
  citizens: 0,
  cases: 0,
  inboundMessages: 0,
  outboundMessages: 0,
  stateItems: 0,
};

/**
 * The prefix of botbuilder's ConversationState keys of a conversation:
 * `${channelId}/conversations/${conversationId}/${namespace}` (the engine uses the chat id as the
 * conversation id and the empty namespace, hence a trailing slash).
 */
export function conversationStatePrefix(channel: string, chatId: string): string {
  return `${channel}/conversations/${chatId}/`;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The outbox's ordering key of a conversation (see `conversationKey` in src/engine/activity.ts). */
function outboxKey(channel: string, chatId: string): string {
  return `${channel}:${chatId}`;
}

/**
 * Strips a case down to its anonymous facts: kind, category, department, status, dates, SLA, rating,
 * who of the officials handled it. Everything the citizen or an official wrote about them goes: the
 * complaint's fields (description, place, photos, name, contact), the transcript, internal notes,
 * the resolution note and notes in the history. A live case is closed: nobody is left to answer.
 */
async function scrubCases(
  db: ErasureDb,
  filter: { citizen: Types.ObjectId } | { _id: { $in: Types.ObjectId[] } },
  by: Actor,
  now: Date,
): Promise<string[]> {
  const cases = await db.Case.find(filter).select({ _id: 1, reference: 1, status: 1, history: 1 }).lean();
  for (const c of cases) {
    const live = (LIVE_STATUSES as readonly CaseStatus[]).includes(c.status);
    const history: CaseHistoryEntry[] = c.history.map(({ note: _note, ...kept }) => kept);
    if (live) {
      history.push({ action: 'erased', from: c.status, to: 'closed', by: actorRecord(by), at: now });
    }
    await db.Case.updateOne(
      { _id: c._id },
      {
        $set: {
          fields: { photos: [] },
          transcript: [],
          notes: [],
          history,
          anonymous: true,
          ...(live ? { status: 'closed', closedAt: now } : {}),
        },
        $unset: { citizen: 1, resolutionNote: 1 },
      },
      // The history entries were read back from the database: they are valid, and re-validating
      // would only trip on an entry an older schema wrote.
      { runValidators: false },
    );
  }
  return cases.map((c) => c.reference);
}

/**
 * Erases everything that identifies a citizen, everywhere it is stored: their identity (platform id,
 * address, display name), every message they sent or were sent (inbox, outbox and its counters),
 * their conversation state, and the personal content of their cases (see {@link scrubCases}). The
 * citizen document itself stays, emptied, so counts of citizens and cases stay true; an `erased`
 * event (counts and case references only) goes to the audit log.
 *
 * Idempotent: erasing an already erased citizen changes nothing and reports zeros.
 *
 * @example
 * await eraseCitizenData(db, citizenId, { by: { kind: 'official', id: officialId }, reason: 'request' });
 */
export async function eraseCitizenData(
  db: ErasureDb,
  citizenId: string | Types.ObjectId,
  options: ErasureOptions,
): Promise<ErasureReport> {
  if (typeof citizenId === 'string' && !Types.ObjectId.isValid(citizenId)) return { ...EMPTY_REPORT };
  const _id = typeof citizenId === 'string' ? new Types.ObjectId(citizenId) : citizenId;
  const citizen = await db.Citizen.findById(_id).lean();
  if (citizen === null || citizen.erasedAt !== undefined) return { ...EMPTY_REPORT };
  const now = options.now ?? new Date();
  const { channel, channelUserId } = citizen;

  // Every conversation the citizen had on the channel: the one on record and any the inbox saw.
  const chatIds = new Set<string>([channelUserId]);
  const addressChat = citizen.address?.['chatId'];
  if (typeof addressChat === 'string') chatIds.add(addressChat);
  const ownInbound = { channel, 'activity.address.userId': channelUserId };
  for (const chatId of await db.InboundMessage.distinct('activity.address.chatId', ownInbound)) {
    if (typeof chatId === 'string') chatIds.add(chatId);
  }
  for (const chatId of await db.OutboundMessage.distinct('address.chatId', {
    channel,
    'address.userId': channelUserId,
  })) {
    if (typeof chatId === 'string') chatIds.add(chatId);
  }
  const chats = [...chatIds];

  const references = await scrubCases(db, { citizen: _id }, options.by, now);

  const inbound = await db.InboundMessage.deleteMany({
    channel,
    $or: [{ 'activity.address.userId': channelUserId }, { 'activity.address.chatId': { $in: chats } }],
  });
  const outboxKeys = chats.map((chat) => outboxKey(channel, chat));
  const outbound = await db.OutboundMessage.deleteMany({
    $or: [
      { conversationKey: { $in: outboxKeys } },
      { channel, 'address.userId': channelUserId },
      ...(references.length > 0 ? [{ caseReference: { $in: references } }] : []),
    ],
  });
  // The outbox's per-conversation counters are named after the chat id, which is often the phone number.
  await db.Sequence.deleteMany({ _id: { $in: outboxKeys.map((key) => `outbox:${key}`) } });
  const state = await db.StateItem.deleteMany({
    $or: chats.map((chat) => ({
      _id: { $regex: `^${escapeRegExp(conversationStatePrefix(channel, chat))}` },
    })),
  });

  await db.Citizen.updateOne(
    { _id },
    {
      $set: { channelUserId: `erased:${randomUUID()}`, erasedAt: now, contactConsent: false },
      $unset: { address: 1, displayName: 1, privacyAckAt: 1, lastInboundAt: 1 },
    },
  );

  const report: ErasureReport = {
    citizens: 1,
    cases: references.length,
    inboundMessages: inbound.deletedCount,
    outboundMessages: outbound.deletedCount,
    stateItems: state.deletedCount,
  };
  const audit = options.audit ?? chainedAuditWriter(db, () => now);
  await audit({
    actor: options.by,
    action: 'erased',
    details: {
      scope: 'citizen',
      reason: options.reason ?? 'request',
      citizen: _id.toHexString(),
      caseReferences: references,
      ...report,
    },
  });
  return report;
}

/**
 * Erases the personal content of some cases only (retention of closed cases, or a request naming a
 * case whose citizen is already erased): see {@link scrubCases}. The answers sent about those cases
 * leave the outbox too. One `erased` audit event per case.
 */
export async function eraseCaseData(
  db: ErasureDb,
  caseIds: Types.ObjectId[],
  options: ErasureOptions,
): Promise<ErasureReport> {
  if (caseIds.length === 0) return { ...EMPTY_REPORT };
  const now = options.now ?? new Date();
  const references = await scrubCases(db, { _id: { $in: caseIds } }, options.by, now);
  const outbound =
    references.length > 0
      ? await db.OutboundMessage.deleteMany({ caseReference: { $in: references } })
      : null;
  const audit = options.audit ?? chainedAuditWriter(db, () => now);
  for (const reference of references) {
    await audit({
      actor: options.by,
      action: 'erased',
      caseReference: reference,
      details: { scope: 'case', reason: options.reason ?? 'request' },
    });
  }
  return { ...EMPTY_REPORT, cases: references.length, outboundMessages: outbound?.deletedCount ?? 0 };
}
