// First, so that botbuilder's files load with native async functions (see native-async.ts).
import '../src/engine/native-async.js';
import {
  ComponentDialog,
  WaterfallDialog,
  type WaterfallStepContext,
  type DialogTurnResult,
} from 'botbuilder-dialogs';
import { ask, AskPrompt, say, turnInfo, type Answer } from '../src/engine/turn.js';
import type { Attachment } from '../src/engine/activity.js';
import { DEFAULT_CATEGORIES } from '../src/db/models/department.js';
import { askChoice, askText, choicesFrom, choicesReply, formatDate, textReply, wordCount } from './common.js';
import { DIALOG } from './ids.js';

/** Categories where the citizen is offered anonymity by default. */
const ANONYMOUS_BY_DEFAULT = new Set<string>(['corruption']);

/** A description given in the message that started the flow is kept when it says enough. */
const MIN_DESCRIPTION_WORDS = 5;

interface ComplaintForm {
  category?: string;
  description?: string;
  location?: { text?: string; lat?: number; lng?: number };
  attachments: Attachment[];
  anonymous: boolean;
  contactConsent: boolean;
}

export interface ComplaintOptions {
  /** The message that started the flow, used as the description when it is long enough. */
  initialText?: string;
}

const ASK = DIALOG.ask;

function choiceValue(answer: unknown): string | undefined {
  const a = answer as Answer | undefined;
  return a?.kind === 'choice' ? a.value : undefined;
}

/**
 * The complaint form: category, description, location (typed or a pin), optional photo, anonymity,
 * consent to be contacted, confirmation; then a case in the category's department queue, and the
 * citizen gets its reference and the expected response time.
 */
export class ComplaintDialog extends ComponentDialog {
  constructor() {
    super(DIALOG.complaint);
    this.addDialog(new AskPrompt(ASK));
    this.addDialog(
      new WaterfallDialog('complaint.steps', [
        (s) => this.askCategory(s),
        (s) => this.askDescription(s),
        (s) => this.askLocation(s),
        (s) => this.askPhoto(s),
        (s) => this.askAnonymous(s),
        (s) => this.askConsent(s),
        (s) => this.confirm(s),
        (s) => this.create(s),
      ]),
    );
    this.initialDialogId = 'complaint.steps';
  }

  private form(step: WaterfallStepContext): ComplaintForm {
    return step.values as ComplaintForm;
  }

  private async askCategory(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const options = (step.options ?? {}) as ComplaintOptions;
    const form = this.form(step);
    form.attachments = [];
    const initial = options.initialText?.trim() ?? '';
    if (wordCount(initial) >= MIN_DESCRIPTION_WORDS) form.description = initial;
    const choices = choicesFrom(step.context, 'categories', DEFAULT_CATEGORIES);
    return askChoice(step, 'complaint.ask_category', choices);
  }

  private async askDescription(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const form = this.form(step);
    form.category = choiceValue(step.result);
    if (form.description !== undefined) return step.next();
    return askText(step, 'complaint.ask_description', 'complaint.retry_description', 3);
  }

  private async askLocation(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const form = this.form(step);
    const answer = step.result as Answer | undefined;
    if (answer?.kind === 'text') form.description = answer.text;
    const { t } = turnInfo(step.context);
    const request = {
      kind: 'location_request' as const,
      text: t('complaint.ask_location'),
      button: t('complaint.location_button'),
    };
    return step.prompt(
      ASK,
      ask(request, { ...request, text: t('complaint.retry_location') }, { type: 'location' }),
    );
  }

  private async askPhoto(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const form = this.form(step);
    const answer = step.result as Answer | undefined;
    if (answer?.kind === 'location') {
      const { kind: _kind, ...location } = answer;
      form.location = location;
    }
    const skip = choicesFrom(step.context, 'complaint', ['photo_skip']);
    return step.prompt(
      ASK,
      ask(
        choicesReply(step.context, 'complaint.ask_photo', skip),
        choicesReply(step.context, 'complaint.retry_photo', skip),
        {
          type: 'attachment',
          orChoices: skip,
        },
      ),
    );
  }

  private async askAnonymous(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const form = this.form(step);
    const answer = step.result as Answer | undefined;
    if (answer?.kind === 'attachments') form.attachments = answer.refs;
    const byDefault = ANONYMOUS_BY_DEFAULT.has(form.category ?? '');
    const choices = choicesFrom(
      step.context,
      'complaint.anonymous',
      byDefault ? ['yes', 'no'] : ['no', 'yes'],
    );
    const question = byDefault ? 'complaint.ask_anonymous_default' : 'complaint.ask_anonymous';
    return askChoice(step, question, choices);
  }

  private async askConsent(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const form = this.form(step);
    form.anonymous = choiceValue(step.result) === 'yes';
    const choices = choicesFrom(step.context, 'complaint.consent', ['yes', 'no']);
    return askChoice(step, 'complaint.ask_consent', choices);
  }

  private async confirm(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const form = this.form(step);
    form.contactConsent = choiceValue(step.result) === 'yes';
    const { t } = turnInfo(step.context);
    const where =
      form.location?.text ??
      (form.location?.lat !== undefined ? `${form.location.lat}, ${form.location.lng}` : '');
    const choices = choicesFrom(step.context, 'complaint.confirm', ['send', 'cancel']);
    return askChoice(step, 'complaint.summary', choices, {
      category: t(`categories.${form.category ?? 'other'}`),
      description: form.description ?? '',
      location: where,
      photos: form.attachments.length,
      anonymous: t(form.anonymous ? 'complaint.anonymous.yes' : 'complaint.anonymous.no'),
    });
  }

  private async create(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const form = this.form(step);
    const info = turnInfo(step.context);
    if (choiceValue(step.result) !== 'send') {
      await say(step.context, textReply(step.context, 'common.cancelled'));
      return step.endDialog();
    }
    const created = await info.services.createCase({
      kind: 'complaint',
      category: form.category ?? 'other',
      description: form.description ?? '',
      ...(form.location ? { location: form.location } : {}),
      attachments: form.attachments,
      anonymous: form.anonymous,
      contactConsent: form.contactConsent,
      citizenId: info.citizenId,
      address: info.activity.address,
      lang: info.lang,
      transcript: [],
    });
    await say(
      step.context,
      textReply(step.context, 'complaint.created', {
        reference: created.reference,
        department: info.t(`departments.${created.department}`),
        due: formatDate(step.context, created.slaDueAt),
      }),
    );
    return step.endDialog(created);
  }
}
