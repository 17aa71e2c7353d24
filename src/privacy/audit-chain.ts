import { createHash } from 'node:crypto';
import type { Db } from '../db/connection.js';
import type { ActorRecord } from '../db/models/index.js';

/** The `prevHash` of the first entry of the chain. */
export const AUDIT_GENESIS = '0'.repeat(64);

/** The fields of an audit entry that its hash covers. */
export interface HashedAuditFields {
  prevHash: string;
  seq: number;
  at: Date;
  actor: ActorRecord;
  action: string;
  caseReference?: string | undefined;
  details: Record<string, unknown>;
}

/**
 * The hash of an audit entry: SHA-256 (hex) over
 * `JSON.stringify([prevHash, seq, at.toISOString(), actor, action, caseReference ?? null, details])`,
 * used by `chainedAuditWriter` (src/console/audit.ts) to write and by {@link verifyAuditChain} to check. The actor is re-built as
 * `{kind, id?}` so that key order read back from the database cannot change the hash.
 */
export function auditHash(e: HashedAuditFields): string {
  const actor: ActorRecord =
    e.actor.id !== undefined ? { kind: e.actor.kind, id: e.actor.id } : { kind: e.actor.kind };
  return createHash('sha256')
    .update(
      JSON.stringify([
        e.prevHash,
        e.seq,
        e.at.toISOString(),
        actor,
        e.action,
        e.caseReference ?? null,
        e.details,
      ]),
    )
    .digest('hex');
}

/** Why the chain broke at an entry. */
export type AuditBreak =
  | 'hash_mismatch' // the entry was edited after it was written
  | 'prev_hash_mismatch' // an entry before it was deleted, inserted or edited
  | 'seq_gap' // an entry is missing (deleted), or numbered out of order
  | 'duplicate_seq';

/** The result of {@link verifyAuditChain}. */
export type AuditVerification =
  | { ok: true; entries: number; lastSeq: number; lastHash: string }
  | { ok: false; entries: number; brokenAt: number; reason: AuditBreak };

/**
 * Walks the audit log in `seq` order and checks that each entry's hash covers its fields and the
 * previous entry's hash, from the genesis hash, with no gap in `seq`. Reports the first broken `seq`:
 * an edited entry breaks its own hash, a deleted one leaves a gap (or a wrong `prevHash` on its
 * successor), an inserted one breaks its successor's `prevHash` or duplicates a `seq`.
 *
 * Reads with a cursor, so the log's size is bounded by the database, not by memory.
 *
 * @example
 * const result = await verifyAuditChain(db);
 * if (!result.ok) console.error(`audit chain broken at seq ${result.brokenAt}: ${result.reason}`);
 */
export async function verifyAuditChain(db: Pick<Db, 'AuditEvent'>): Promise<AuditVerification> {
  let prevHash = AUDIT_GENESIS;
  let expected = 1;
  let entries = 0;
  const cursor = db.AuditEvent.find().sort({ seq: 1 }).lean().cursor();
  for await (const e of cursor) {
    entries += 1;
    if (e.seq === expected - 1) return { ok: false, entries, brokenAt: e.seq, reason: 'duplicate_seq' };
    if (e.seq !== expected) return { ok: false, entries, brokenAt: expected, reason: 'seq_gap' };
    if (e.prevHash !== prevHash) return { ok: false, entries, brokenAt: e.seq, reason: 'prev_hash_mismatch' };
    if (auditHash(e) !== e.hash) return { ok: false, entries, brokenAt: e.seq, reason: 'hash_mismatch' };
    prevHash = e.hash;
    expected += 1;
  }
  return { ok: true, entries, lastSeq: expected - 1, lastHash: prevHash };
}
