import { Schema, type Types } from 'mongoose';
import { LANGS } from '../../nlu/catalog.js';
import { KEY_PATTERN } from './common.js';

/** Opening hours on one day of the week (0 = Sunday), "HH:MM" in the department's time zone. */
export interface OpeningHours {
  day: number;
  open: string;
  close: string;
}

/** When a department answers, for "outside office hours" messages; absent means always. */
export interface BusinessHours {
  /** An IANA time zone, e.g. "Europe/Paris". */
  timeZone: string;
  days: OpeningHours[];
}

/**
 * A department with a queue of cases. Its display name is content: it normally comes from locales/
 * (`departments.<key>`); `names` lets an admin override it per language without a deployment.
 */
export interface Department {
  key: string;
  names?: Map<string, string>;
  /** Time allowed from a case's creation to its SLA due time. */
  slaHours: number;
  businessHours?: BusinessHours;
  createdAt: Date;
  updatedAt: Date;
}

export type DepartmentRecord = Omit<Department, 'names'> & {
  _id: Types.ObjectId;
  names?: Record<string, string>;
};

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

const openingHoursSchema = new Schema<OpeningHours>(
  {
    day: { type: Number, required: true, min: 0, max: 6 },
    open: { type: String, required: true, match: HHMM },
    close: { type: String, required: true, match: HHMM },
  },
  { _id: false },
);

const businessHoursSchema = new Schema<BusinessHours>(
  {
    timeZone: { type: String, required: true },
    days: { type: [openingHoursSchema], default: [] },
  },
  { _id: false },
);

export const departmentSchema = new Schema<Department>(
  {
    key: { type: String, required: true, match: KEY_PATTERN },
    names: {
      type: Map,
      of: String,
      validate: {
        validator: (names: Map<string, string> | undefined) =>
          names === undefined ||
          [...names.keys()].every((lang) => (LANGS as readonly string[]).includes(lang)),
        message: 'department names are keyed by one of the content languages',
      },
    },
    slaHours: { type: Number, required: true, min: 0 },
    businessHours: { type: businessHoursSchema },
  },
  { timestamps: true, collection: 'departments' },
);

departmentSchema.index({ key: 1 }, { unique: true });

/** Which department's queue receives cases of a category. Admins edit these in the console. */
export interface CategoryRoute {
  category: string;
  department: string;
  createdAt: Date;
  updatedAt: Date;
}

export const categoryRouteSchema = new Schema<CategoryRoute>(
  {
    category: { type: String, required: true, match: KEY_PATTERN },
    department: { type: String, required: true, match: KEY_PATTERN },
  },
  { timestamps: true, collection: 'category_routes' },
);

categoryRouteSchema.index({ category: 1 }, { unique: true });

/** The demo pack's departments and their SLA, seeded on first start (admins change them later). */
export const DEFAULT_DEPARTMENTS: readonly { key: string; slaHours: number }[] = [
  { key: 'public_works', slaHours: 72 },
  { key: 'utilities', slaHours: 48 },
  { key: 'transport', slaHours: 72 },
  { key: 'integrity', slaHours: 120 },
  { key: 'citizen_services', slaHours: 48 },
  { key: 'participation', slaHours: 240 },
];

/** The demo pack's complaint categories, in the order the complaint form offers them. */
export const DEFAULT_CATEGORIES = [
  'roads',
  'lighting',
  'waste',
  'water',
  'electricity',
  'transport',
  'corruption',
  'public_services',
  'other',
] as const;

/** Category of suggestion cases (e-participation). */
export const SUGGESTION_CATEGORY = 'suggestion';

/** Where a category with no route goes: a human triages it and transfers it. */
export const FALLBACK_DEPARTMENT = 'citizen_services';

/** The seeded category → department routing. */
export const DEFAULT_CATEGORY_ROUTES: Readonly<Record<string, string>> = {
  roads: 'public_works',
  lighting: 'public_works',
  waste: 'public_works',
  water: 'utilities',
  electricity: 'utilities',
  transport: 'transport',
  corruption: 'integrity',
  public_services: 'citizen_services',
  other: 'citizen_services',
  [SUGGESTION_CATEGORY]: 'participation',
};
