import type { Lang } from '../nlu/catalog.js';
import type { Address, Attachment } from './activity.js';
import type { TranscriptLine } from './profile.js';

/** A complaint, suggestion or handoff as the dialogs hand it over. */
export interface NewCase {
  kind: 'complaint' | 'suggestion' | 'handoff';
  /** A complaint category (locale key under categories.*); suggestions and handoffs have their own. */
  category: string;
  description: string;
  location?: { text?: string; lat?: number; lng?: number };
  attachments?: Attachment[];
  anonymous: boolean;
  contactConsent: boolean;
  citizenId: string;
  address: Address;
  lang: Lang;
  transcript: TranscriptLine[];
}

export interface CreatedCase {
  reference: string;
  department: string;
  slaDueAt: Date;
}

export type CaseStatus = 'open' | 'assigned' | 'waiting_on_citizen' | 'resolved' | 'closed';

export interface CaseSummary {
  reference: string;
  kind: string;
  category: string;
  status: CaseStatus;
  updatedAt: Date;
}

/**
 * The narrow interface dialogs use to reach the data layer (state behind a narrow interface, as
 * botbuilder's Storage): the engine binds it to MongoDB, so dialogs never touch models.
 */
export interface Services {
  createCase(input: NewCase): Promise<CreatedCase>;
  /** The case, only when it belongs to this citizen: anyone else gets null, as for an unknown one. */
  caseForCitizen(reference: string, citizenId: string): Promise<CaseSummary | null>;
  /** Adds a citizen's message to a live case; false when the case is no longer live. */
  appendCitizenMessage(
    reference: string,
    text: string,
    attachments: Attachment[],
    at: Date,
  ): Promise<boolean>;
  rateCase(reference: string, citizenId: string, rating: number): Promise<void>;
  /**
   * Records that the citizen acknowledged the privacy notice (Citizen.privacyAckAt), once: later
   * calls keep the first date.
   */
  acknowledgePrivacy(citizenId: string, at: Date): Promise<void>;
  /** Erases the citizen's personal data everywhere (identity, texts, attachments, conversation state). */
  eraseCitizen(citizenId: string): Promise<void>;
  /** Whether officials are at work at `at` (for what the citizen is told after a handoff). */
  officeOpen(at: Date): boolean;
}
