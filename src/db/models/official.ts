import { Schema, type Types } from 'mongoose';
import type { Lang } from '../../nlu/catalog.js';
import { KEY_PATTERN, langField } from './common.js';

export const OFFICIAL_ROLES = ['agent', 'supervisor', 'admin'] as const;
export type OfficialRole = (typeof OFFICIAL_ROLES)[number];

/** A government official who works cases in the console. */
export interface Official {
  /** Stored lowercased and trimmed, so that login is case-insensitive and the unique index is exact. */
  email: string;
  name: string;
  /** A memory-hard hash (scrypt/argon2, encoded with its parameters); never the password. */
  passwordHash: string;
  role: OfficialRole;
  /** Department keys whose queues the official works (supervisors: oversees). */
  departments: string[];
  uiLang: Lang;
  failedLogins: number;
  lockedUntil?: Date;
  lastLoginAt?: Date;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type OfficialRecord = Official & { _id: Types.ObjectId };

export const officialSchema = new Schema<Official>(
  {
    email: { type: String, required: true, lowercase: true, trim: true },
    name: { type: String, required: true },
    passwordHash: { type: String, required: true },
    role: { type: String, enum: OFFICIAL_ROLES, required: true, default: 'agent' },
    departments: { type: [{ type: String, match: KEY_PATTERN }], default: [] },
    uiLang: { ...langField, default: 'en' },
    failedLogins: { type: Number, required: true, default: 0 },
    lockedUntil: { type: Date },
    lastLoginAt: { type: Date },
    active: { type: Boolean, required: true, default: true },
  },
  { timestamps: true, collection: 'officials' },
);

officialSchema.index({ email: 1 }, { unique: true });
// "Who supervises this department?" when the SLA sweeper notifies.
officialSchema.index({ departments: 1, role: 1 });
