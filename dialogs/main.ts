// First, so that botbuilder's files load with native async functions (see native-async.ts).
import '../src/engine/native-async.js';
import type { TurnContext } from 'botbuilder';
import {
  ComponentDialog,
  DialogTurnStatus,
  WaterfallDialog,
  type DialogContext,
  type DialogTurnResult,
  type WaterfallStepContext,
} from 'botbuilder-dialogs';
import { INTENTS, type IntentOrNone } from '../src/nlu/catalog.js';
import { matchChoice, type Choice } from '../src/engine/replies.js';
import { answersPendingChoice, say, turnInfo } from '../src/engine/turn.js';
import { CaseStatusDialog } from './case-status.js';
import { choicesReply, textReply, wordCount } from './common.js';
import { ComplaintDialog } from './complaint.js';
import { HandoffDialog } from './handoff.js';
import { DIALOG } from './ids.js';
import { LanguageDialog } from './language.js';
import { PrivacyDialog } from './privacy.js';
import { SuggestionDialog } from './suggestion.js';

/** Intents answered from locale content: `service.passport` → `services.passport`, `office.hours` → `office.hours`. */
const ANSWER_KEYS = new Map<IntentOrNone, string>(
  INTENTS.filter((i) => i.startsWith('service.') || i === 'office.hours' || i === 'appointment.book').map(
    (i) => [i, i.startsWith('service.') ? `services.${i.slice('service.'.length)}` : i],
  ),
);

/** Messages longer than this are content (a complaint's description), not a command to interrupt with. */
const MAX_INTERRUPTION_WORDS = 8;
/** How sure the model must be before a message mid-form is taken as an interruption. */
const MIN_INTERRUPTION_SCORE = 0.7;
/** Two messages in a row the model cannot understand hand the conversation to a person. */
const UNKNOWN_BEFORE_HANDOFF = 2;

const MENU_VALUE_SERVICES = 'menu.services';

/**
 * The router: picks the flow for an intent when no flow is running, and lets help, cancel, "talk to a
 * person" and "change language" interrupt any step of any flow.
 */
export class MainDialog extends ComponentDialog {
  constructor() {
    super(DIALOG.main);
    this.addDialog(new ComplaintDialog());
    this.addDialog(new CaseStatusDialog());
    this.addDialog(new SuggestionDialog());
    this.addDialog(new HandoffDialog());
    this.addDialog(new PrivacyDialog());
    this.addDialog(new LanguageDialog());
    this.addDialog(new WaterfallDialog('main.steps', [(s) => this.route(s), (s) => s.endDialog()]));
    this.initialDialogId = 'main.steps';
  }

  protected override async onContinueDialog(inner: DialogContext): Promise<DialogTurnResult> {
    await this.acknowledgePrivacy(inner.context);
    return (await this.interrupt(inner)) ?? super.onContinueDialog(inner);
  }

  /**
   * The notice is shown with its link on the first turn; the citizen's next message, whatever it is,
   * acknowledges it: they read it and carried on (an explicit "OK" button would stand between every
   * citizen and their first answer). Recorded once on the citizen (Citizen.privacyAckAt).
   */
  private async acknowledgePrivacy(ctx: TurnContext): Promise<void> {
    const info = turnInfo(ctx);
    const shownAt = info.profile.privacyNoticeAt;
    if (shownAt === undefined || shownAt === info.now.toISOString() || info.profile.privacyAckAt) return;
    await info.services.acknowledgePrivacy(info.citizenId, info.now);
    info.profile.privacyAckAt = info.now.toISOString();
  }

  private async interrupt(inner: DialogContext): Promise<DialogTurnResult | undefined> {
    const info = turnInfo(inner.context);
    const text = info.activity.text?.trim() ?? '';
    if (text === '') return undefined;
    const folded = text.toLowerCase();
    if (info.list('common.cancel_words').some((w) => w.toLowerCase() === folded)) {
      await say(inner.context, textReply(inner.context, 'common.cancelled'));
      await inner.cancelAllDialogs();
      return { status: DialogTurnStatus.complete };
    }
    const short = wordCount(text) <= MAX_INTERRUPTION_WORDS;
    if (!short || info.nlu.score < MIN_INTERRUPTION_SCORE || answersPendingChoice(inner)) return undefined;
    switch (info.nlu.intent) {
      case 'help':
        await say(inner.context, textReply(inner.context, 'help.in_form'));
        await inner.repromptDialog();
        return { status: DialogTurnStatus.waiting };
      case 'agent.human':
        await inner.cancelAllDialogs();
        return inner.beginDialog(DIALOG.handoff, { reason: 'asked' });
      case 'language.change':
        return inner.beginDialog(DIALOG.language);
      default:
        return undefined;
    }
  }

  private menu(ctx: TurnContext): Choice[] {
    const { t } = turnInfo(ctx);
    return [
      { value: 'complaint.file', label: t('menu.complaint') },
      { value: 'case.status', label: t('menu.status') },
      { value: MENU_VALUE_SERVICES, label: t('menu.services') },
      { value: 'suggestion.submit', label: t('menu.suggestion') },
      { value: 'agent.human', label: t('menu.human') },
      { value: 'language.change', label: t('menu.language') },
    ];
  }

  private servicesMenu(ctx: TurnContext): Choice[] {
    const { t } = turnInfo(ctx);
    return [...ANSWER_KEYS].map(([intent, key]) => ({ value: intent, label: t(`${key}.title`) }));
  }

  private async offer(step: WaterfallStepContext, key: string, choices: Choice[]): Promise<void> {
    turnInfo(step.context).profile.menu = choices;
    await say(step.context, choicesReply(step.context, key, choices));
  }

  private async route(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const ctx = step.context;
    const info = turnInfo(ctx);
    const { profile, activity } = info;

    await this.acknowledgePrivacy(ctx);
    if (profile.privacyNoticeAt === undefined) {
      profile.privacyNoticeAt = info.now.toISOString();
      await say(ctx, {
        kind: 'link',
        text: info.t('privacy.notice'),
        url: info.t('privacy.policy_url'),
        label: info.t('privacy.policy_label'),
      });
    }

    if (profile.awaitingRating !== undefined) {
      const reference = profile.awaitingRating;
      profile.awaitingRating = undefined;
      const rating = matchChoice(activity, RATING_CHOICES);
      if (rating) {
        await info.services.rateCase(reference, info.citizenId, Number(rating.value));
        await say(ctx, textReply(ctx, 'rating.thanks'));
        return step.endDialog();
      }
    }

    let intent: IntentOrNone | typeof MENU_VALUE_SERVICES = info.nlu.intent;
    const offered = profile.menu;
    profile.menu = undefined;
    const picked = offered ? matchChoice(activity, offered) : undefined;
    if (picked) intent = picked.value as IntentOrNone | typeof MENU_VALUE_SERVICES;
    else if (activity.start && !activity.text) intent = 'greet';

    if (intent !== 'None') profile.unknownStreak = 0;
    const answerKey = ANSWER_KEYS.get(intent as IntentOrNone);
    if (answerKey !== undefined) {
      await say(ctx, {
        kind: 'link',
        text: info.t(`${answerKey}.answer`),
        url: info.t(`${answerKey}.link`),
        label: info.t('common.more_info'),
      });
      return step.endDialog();
    }
    const initialText = picked ? undefined : activity.text;
    switch (intent) {
      case 'greet':
      case 'help':
        await this.offer(step, intent === 'greet' ? 'greet.menu' : 'help.menu', this.menu(ctx));
        return step.endDialog();
      case MENU_VALUE_SERVICES:
        await this.offer(step, 'menu.services_pick', this.servicesMenu(ctx));
        return step.endDialog();
      case 'bye':
      case 'thanks':
        await say(ctx, textReply(ctx, `${intent}.reply`));
        return step.endDialog();
      case 'complaint.file':
        return step.beginDialog(DIALOG.complaint, { initialText });
      case 'case.status':
        return step.beginDialog(DIALOG.caseStatus, { reference: info.nlu.references[0] });
      case 'suggestion.submit':
        return step.beginDialog(DIALOG.suggestion, { initialText });
      case 'agent.human':
        return step.beginDialog(DIALOG.handoff, { reason: 'asked' });
      case 'privacy.erase':
        return step.beginDialog(DIALOG.privacy);
      case 'language.change':
        return step.beginDialog(DIALOG.language);
      default: {
        profile.unknownStreak += 1;
        if (profile.unknownStreak >= UNKNOWN_BEFORE_HANDOFF) {
          profile.unknownStreak = 0;
          return step.beginDialog(DIALOG.handoff, { reason: 'not_understood' });
        }
        await this.offer(step, 'unknown.menu', this.menu(ctx));
        return step.endDialog();
      }
    }
  }
}

/** The satisfaction scale offered after a case is resolved. */
export const RATING_CHOICES: Choice[] = ['1', '2', '3', '4', '5'].map((v) => ({ value: v, label: v }));
