import type { TurnContext } from 'botbuilder';
import type { DialogTurnResult, WaterfallStepContext } from 'botbuilder-dialogs';
import { ask, turnInfo } from '../src/engine/turn.js';
import { DIALOG } from './ids.js';
import type { Choice, Reply } from '../src/engine/replies.js';

/** Choices whose labels come from locale keys: `choicesFrom(ctx, 'complaint.anonymous', ['yes', 'no'])`. */
export function choicesFrom(ctx: TurnContext, prefix: string, values: readonly string[]): Choice[] {
  const { t } = turnInfo(ctx);
  return values.map((value) => ({ value, label: t(`${prefix}.${value}`) }));
}

/** A choices reply from a locale key for the question and the offered choices. */
export function choicesReply(ctx: TurnContext, key: string, choices: Choice[]): Reply {
  return { kind: 'choices', text: turnInfo(ctx).t(key), choices };
}

/** A text reply from a locale key. */
export function textReply(ctx: TurnContext, key: string, vars?: Record<string, string | number>): Reply {
  return { kind: 'text', text: turnInfo(ctx).t(key, vars) };
}

/** The date a citizen reads, in their language and the deployment's time zone. */
export function formatDate(ctx: TurnContext, date: Date): string {
  const { lang } = turnInfo(ctx);
  return new Intl.DateTimeFormat(lang, {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: turnInfo(ctx).timeZone,
  }).format(date);
}

/** Asks a question with choices (locale key + vars); an unrecognized answer is asked again as "pick one of these". */
export function askChoice(
  step: WaterfallStepContext,
  key: string,
  choices: Choice[],
  vars?: Record<string, string | number>,
): Promise<DialogTurnResult> {
  const { t } = turnInfo(step.context);
  return step.prompt(
    DIALOG.ask,
    ask(
      { kind: 'choices', text: t(key, vars), choices },
      { kind: 'choices', text: t('common.pick_one'), choices },
      {
        type: 'choice',
        choices,
      },
    ),
  );
}

/** Asks for a free-text answer of at least `minLength` characters, re-asking with `retryKey`. */
export function askText(
  step: WaterfallStepContext,
  key: string,
  retryKey: string,
  minLength: number,
): Promise<DialogTurnResult> {
  return step.prompt(
    DIALOG.ask,
    ask(textReply(step.context, key), textReply(step.context, retryKey), { type: 'text', minLength }),
  );
}

/**
 * How many words a message has, for "does it say enough?" decisions. Chinese is written without spaces:
 * every two Han characters count as a word.
 */
export function wordCount(text: string): number {
  const han = (text.match(/\p{Script=Han}/gu) ?? []).length;
  const spaced = text
    .replace(/\p{Script=Han}+/gu, ' ')
    .split(/\s+/)
    .filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
  return spaced + Math.ceil(han / 2);
}
