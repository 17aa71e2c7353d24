import { Schema, type Types } from 'mongoose';
import { actorSchema, type ActorRecord } from './common.js';

/**
 * One entry of the append-only audit log of official actions (viewed, claimed, answered, transferred,
 * resolved, erased). Each entry is chained to the previous one: `hash` covers the entry and
 * `prevHash`, so editing or deleting history breaks the chain. `seq` orders the chain; the privacy and
 * audit work fills `prevHash`/`hash` and verifies them.
 */
export interface AuditEvent {
  /** Position in the chain, from 1, unique: two writers cannot both append entry N. */
  seq: number;
  actor: ActorRecord;
  action: string;
  caseReference?: string;
  at: Date;
  /** What the action touched; never personal data (the log outlives erasure). */
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export type AuditEventRecord = AuditEvent & { _id: Types.ObjectId };

export const auditEventSchema = new Schema<AuditEvent>(
  {
    seq: { type: Number, required: true, min: 1 },
    actor: { type: actorSchema, required: true },
    action: { type: String, required: true },
    caseReference: { type: String },
    at: { type: Date, required: true },
    details: { type: Schema.Types.Mixed, default: () => ({}) },
    prevHash: { type: String, required: true },
    hash: { type: String, required: true },
  },
  { collection: 'audit_events', versionKey: false, minimize: false },
);

auditEventSchema.index({ seq: 1 }, { unique: true });
auditEventSchema.index({ caseReference: 1, at: 1 });
auditEventSchema.index({ 'actor.id': 1, at: 1 });

// Append-only through the model: a bug that edits or deletes history fails loudly instead of being
// found later by the chain check. (Someone with direct database access can still do it; the hash
// chain is what detects that.)
const refuse = (): never => {
  throw new Error('The audit log is append-only: insert new events; never update or delete them.');
};
for (const op of [
  'updateOne',
  'updateMany',
  'findOneAndUpdate',
  'findOneAndReplace',
  'findOneAndDelete',
  'replaceOne',
  'deleteOne',
  'deleteMany',
] as const) {
  auditEventSchema.pre(op, refuse);
}
