import { z } from 'zod';
import type { Lang } from '../nlu/catalog.js';
import type { Choice } from './replies.js';

/** One line of the conversation, kept so a handoff can give the official the context. */
export interface TranscriptLine {
  from: 'citizen' | 'bot';
  text: string;
  at: string;
}

const transcriptLineSchema = z.object({ from: z.enum(['citizen', 'bot']), text: z.string(), at: z.string() });

/**
 * The lines of a stored transcript, read line by line: one malformed line is left out, not the
 * whole transcript, so a handoff still gives the official what can be read.
 */
export function transcriptLines(stored: unknown): TranscriptLine[] {
  if (!Array.isArray(stored)) return [];
  return stored.flatMap((raw: unknown) => {
    const line = transcriptLineSchema.safeParse(raw);
    return line.success ? [line.data] : [];
  });
}

/** The engine's own per-conversation state, stored beside the dialog stack in conversation state. */
export interface Profile {
  /** The language the bot last answered in. */
  lang?: Lang;
  /** A language the citizen chose explicitly; it wins over detection until they change it again. */
  chosenLang?: Lang;
  /** Consecutive messages the model could not understand; two in a row hand off to a person. */
  unknownStreak: number;
  /** The menu last offered outside any dialog, so a digit or a tap can select from it. */
  menu?: Choice[];
  /** A case an official is handling: while it is live, the citizen's messages go to it. */
  liveCase?: string;
  /** A resolved case whose satisfaction rating the bot asked for. */
  awaitingRating?: string;
  /** When the privacy notice was shown in this conversation. */
  privacyNoticeAt?: string;
  /** When the citizen carried on after the notice (recorded on the citizen once; not asked again). */
  privacyAckAt?: string;
}

/** How many of the conversation's recent lines are kept (beside the state: see `TurnState`). */
export const TRANSCRIPT_LIMIT = 40;

export function newProfile(): Profile {
  return { unknownStreak: 0 };
}

/**
 * The lines an earlier version kept inside the profile, taken out of it (to be stored beside the
 * state from now on); none for a profile written since.
 */
export function takeLegacyTranscript(profile: Profile): TranscriptLine[] {
  if (!('transcript' in profile)) return [];
  const lines = transcriptLines(profile.transcript);
  Reflect.deleteProperty(profile, 'transcript');
  return lines;
}
