import type { Db } from '../../db/connection.js';
import type { Address } from '../../engine/activity.js';
import { isLang, type Lang } from '../../nlu/catalog.js';

export const HOUR_MS = 60 * 60 * 1000;

/** What a Meta renderer needs to know about the citizen before sending: their window and language. */
export interface Recipient {
  /** Milliseconds since the citizen's last message; Infinity when they never wrote. */
  sinceLastInboundMs: number;
  lang: Lang;
}

/**
 * Reads the citizen's last inbound message and language. Meta refuses free-form messages outside the
 * customer-service window, so each send decides on this, not on what was true when it was queued.
 */
export async function readRecipient(db: Db, address: Address, now = Date.now()): Promise<Recipient> {
  const citizen = await db.Citizen.findOne(
    { channel: address.channel, channelUserId: address.userId },
    { lastInboundAt: 1, lang: 1 },
  ).lean();
  const last = citizen?.lastInboundAt;
  const lang: Lang = isLang(citizen?.lang) ? citizen.lang : 'en';
  return { sinceLastInboundMs: last ? now - new Date(last).getTime() : Infinity, lang };
}

/** Cuts a string to `max` code points (never splitting a surrogate pair), marking the cut with "…". */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return `${chars.slice(0, max - 1).join('')}…`;
}

/** Length in code points, the unit Meta's limits count in. */
export function charLength(text: string): number {
  return Array.from(text).length;
}
