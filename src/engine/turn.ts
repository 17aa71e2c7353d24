// First, so that botbuilder's files load with native async functions (see native-async.ts).
import './native-async.js';
import type { Activity as BfActivity, TurnContext } from 'botbuilder';
import {
  Prompt,
  type DialogContext,
  type PromptOptions,
  type PromptRecognizerResult,
} from 'botbuilder-dialogs';
import type { Classification, Lang } from '../nlu/catalog.js';
import type { Vars } from '../i18n/index.js';
import type { Activity, Attachment } from './activity.js';
import { matchChoice, type Choice, type Reply } from './replies.js';
import type { Services } from './services.js';
import type { Profile, TranscriptLine } from './profile.js';

/** What a dialog may know about the current turn; set by the engine before dialogs run. */
export interface TurnInfo {
  activity: Activity;
  /** The language the bot answers in this turn. */
  lang: Lang;
  nlu: Classification;
  citizenId: string;
  profile: Profile;
  services: Services;
  now: Date;
  /** The deployment's IANA time zone, for dates citizens read. */
  timeZone: string;
  /** What the turn decided beyond replies, for the engine to act on after the dialogs ran. */
  outcome: { erased?: boolean };
  /** The conversation's recent lines, oldest first, this turn's so far included. */
  transcript(): Promise<TranscriptLine[]>;
  t(key: string, vars?: Vars): string;
  list(key: string): string[];
}

const TURN_INFO = Symbol('civic.turnInfo');

export function setTurnInfo(ctx: TurnContext, info: TurnInfo): void {
  ctx.turnState.set(TURN_INFO, info);
}

/** The engine's view of this turn, for dialogs. */
export function turnInfo(ctx: TurnContext): TurnInfo {
  const info: unknown = ctx.turnState.get(TURN_INFO);
  if (info === undefined) throw new Error('turnInfo() called outside an engine turn');
  return info as TurnInfo;
}

/** Wraps one of our replies in the Bot Framework activity that carries it to the adapter. */
export function replyActivity(reply: Reply): Partial<BfActivity> {
  return { type: 'message', channelData: { reply } };
}

/** Sends one reply in this turn (collected by the engine and persisted to the outbox). */
export async function say(ctx: TurnContext, reply: Reply): Promise<void> {
  await ctx.sendActivity(replyActivity(reply));
}

/** Sends a text reply from a locale key. */
export async function sayKey(ctx: TurnContext, key: string, vars?: Vars): Promise<void> {
  await say(ctx, { kind: 'text', text: turnInfo(ctx).t(key, vars) });
}

/** What the citizen answered to an {@link AskPrompt}. */
export type Answer =
  | { kind: 'text'; text: string }
  | { kind: 'choice'; value: string }
  | { kind: 'location'; text?: string; lat?: number; lng?: number }
  | { kind: 'attachments'; refs: Attachment[] };

/** What an {@link AskPrompt} accepts. */
export type Expect =
  | { type: 'text'; minLength?: number }
  | { type: 'choice'; choices: Choice[] }
  | { type: 'location' }
  | { type: 'attachment'; orChoices: Choice[] };

/** Options of an {@link AskPrompt}: the replies to send, and what counts as an answer. */
export interface AskOptions extends PromptOptions {
  validations: Expect;
}

/**
 * One prompt for every question the bot asks: it recognizes our platform-neutral Activity (text,
 * tapped choice, number, location pin, photo) rather than Bot Framework's English-centric recognizers.
 * On an unrecognized answer it re-asks with the retry prompt.
 */
export class AskPrompt extends Prompt<Answer> {
  // Prompt's constructor is protected; dialogs construct this one directly.
  // eslint-disable-next-line @typescript-eslint/no-useless-constructor
  constructor(dialogId: string) {
    super(dialogId);
  }

  protected async onPrompt(
    ctx: TurnContext,
    _state: object,
    options: PromptOptions,
    isRetry: boolean,
  ): Promise<void> {
    const activity = isRetry && options.retryPrompt ? options.retryPrompt : options.prompt;
    if (activity !== undefined) await ctx.sendActivity(activity);
  }

  protected async onRecognize(
    ctx: TurnContext,
    _state: object,
    options: PromptOptions,
  ): Promise<PromptRecognizerResult<Answer>> {
    const { activity } = turnInfo(ctx);
    const expect = (options as AskOptions).validations;
    const text = activity.text?.trim() ?? '';
    const fail: PromptRecognizerResult<Answer> = { succeeded: false };
    switch (expect.type) {
      case 'text':
        return text.length >= (expect.minLength ?? 1)
          ? { succeeded: true, value: { kind: 'text', text } }
          : fail;
      case 'choice': {
        const choice = matchChoice(activity, expect.choices);
        return choice ? { succeeded: true, value: { kind: 'choice', value: choice.value } } : fail;
      }
      case 'location':
        if (activity.location) return { succeeded: true, value: { kind: 'location', ...activity.location } };
        return text.length >= 3 ? { succeeded: true, value: { kind: 'location', text } } : fail;
      case 'attachment': {
        if (activity.attachments && activity.attachments.length > 0) {
          return { succeeded: true, value: { kind: 'attachments', refs: activity.attachments } };
        }
        const choice = matchChoice(activity, expect.orChoices);
        return choice ? { succeeded: true, value: { kind: 'choice', value: choice.value } } : fail;
      }
    }
  }
}

/** Builds the options for an {@link AskPrompt} from replies. */
export function ask(prompt: Reply, retry: Reply, validations: Expect): AskOptions {
  return { prompt: replyActivity(prompt), retryPrompt: replyActivity(retry), validations };
}

function isAskOptions(value: unknown): value is AskOptions {
  return typeof value === 'object' && value !== null && 'validations' in value;
}

/**
 * True when the message answers the choice the innermost {@link AskPrompt} is waiting for ("Français"
 * to "which language?"): such an answer must reach the prompt, not be taken as an interruption.
 */
export function answersPendingChoice(dc: DialogContext): boolean {
  let inner = dc;
  while (inner.child) inner = inner.child;
  const state: unknown = inner.activeDialog?.state;
  const options: unknown =
    typeof state === 'object' && state !== null && 'options' in state ? state.options : undefined;
  if (!isAskOptions(options)) return false;
  const expect = options.validations;
  const choices =
    expect.type === 'choice' ? expect.choices : expect.type === 'attachment' ? expect.orChoices : [];
  return matchChoice(turnInfo(dc.context).activity, choices) !== undefined;
}
