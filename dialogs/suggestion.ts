// First, so that botbuilder's files load with native async functions (see native-async.ts).
import '../src/engine/native-async.js';
import {
  ComponentDialog,
  WaterfallDialog,
  type WaterfallStepContext,
  type DialogTurnResult,
} from 'botbuilder-dialogs';
import { AskPrompt, say, turnInfo, type Answer } from '../src/engine/turn.js';
import { askText, textReply, wordCount } from './common.js';
import { DIALOG } from './ids.js';

const MIN_IDEA_WORDS = 5;

export interface SuggestionOptions {
  initialText?: string;
}

/** E-participation: an idea or feedback, recorded, acknowledged, and routed to the suggestions queue. */
export class SuggestionDialog extends ComponentDialog {
  constructor() {
    super(DIALOG.suggestion);
    this.addDialog(new AskPrompt(DIALOG.ask));
    this.addDialog(new WaterfallDialog('suggestion.steps', [(s) => this.askIdea(s), (s) => this.record(s)]));
    this.initialDialogId = 'suggestion.steps';
  }

  private async askIdea(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const initial = ((step.options ?? {}) as SuggestionOptions).initialText?.trim() ?? '';
    if (wordCount(initial) >= MIN_IDEA_WORDS)
      return step.next({ kind: 'text', text: initial } satisfies Answer);
    return askText(step, 'suggestion.ask', 'suggestion.retry', 3);
  }

  private async record(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const info = turnInfo(step.context);
    const answer = step.result as Answer;
    const created = await info.services.createCase({
      kind: 'suggestion',
      category: 'suggestion',
      description: answer.kind === 'text' ? answer.text : '',
      anonymous: false,
      contactConsent: false,
      citizenId: info.citizenId,
      address: info.activity.address,
      lang: info.lang,
      transcript: [],
    });
    await say(step.context, textReply(step.context, 'suggestion.recorded', { reference: created.reference }));
    return step.endDialog(created);
  }
}
