import type { Db } from '../db/connection.js';
import { actorRecord, type Actor } from '../db/models/index.js';
import { isDuplicateKeyError } from '../db/models/sequence.js';
import { AUDIT_GENESIS, auditHash } from '../privacy/audit-chain.js';

/** An official action to record: viewed, claimed, answered, transferred, resolved, reopened… */
export interface AuditEntry {
  actor: Actor;
  action: string;
  caseReference?: string;
  /** Never personal data: the log outlives erasure. */
  details?: Record<string, unknown>;
}

/** Writes one audit entry. The console calls it for every official action; issue 8 may supply its own. */
export type AuditWriter = (entry: AuditEntry) => Promise<void>;

const MAX_APPEND_ATTEMPTS = 10;

/**
 * The default {@link AuditWriter}: appends to `audit_events` with the next `seq`, chaining each entry
 * to the previous one by {@link auditHash}, the formula `npm run audit:verify` checks.
 * Two writers racing for the same `seq` collide on the unique index; the loser re-reads and retries.
 */
export function chainedAuditWriter(
  db: Pick<Db, 'AuditEvent'>,
  clock: () => Date = () => new Date(),
): AuditWriter {
  return async (entry) => {
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      const last = await db.AuditEvent.findOne().sort({ seq: -1 }).select({ seq: 1, hash: 1 }).lean();
      const seq = (last?.seq ?? 0) + 1;
      const prevHash = last?.hash ?? AUDIT_GENESIS;
      const at = clock();
      const actor = actorRecord(entry.actor);
      const details = entry.details ?? {};
      const hash = auditHash({
        prevHash,
        seq,
        at,
        actor,
        action: entry.action,
        caseReference: entry.caseReference,
        details,
      });
      try {
        await db.AuditEvent.create({
          seq,
          actor,
          action: entry.action,
          at,
          details,
          prevHash,
          hash,
          ...(entry.caseReference !== undefined ? { caseReference: entry.caseReference } : {}),
        });
        return;
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
    }
    throw new Error('Could not append to the audit log after several attempts; the log is contended.');
  };
}
