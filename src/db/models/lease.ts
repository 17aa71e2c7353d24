import { Schema } from 'mongoose';

/** A named lease for a singleton job (the SLA sweeper…): whoever holds it unexpired runs the job. */
export interface Lease {
  key: string;
  owner: string;
  until: Date;
}

export const leaseDocSchema = new Schema<Lease>(
  {
    key: { type: String, required: true },
    owner: { type: String, required: true },
    until: { type: Date, required: true },
  },
  { collection: 'leases', versionKey: false },
);

leaseDocSchema.index({ key: 1 }, { unique: true });
