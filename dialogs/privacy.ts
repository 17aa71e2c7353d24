// First, so that botbuilder's files load with native async functions (see native-async.ts).
import '../src/engine/native-async.js';
import {
  ComponentDialog,
  WaterfallDialog,
  type WaterfallStepContext,
  type DialogTurnResult,
} from 'botbuilder-dialogs';
import { AskPrompt, say, turnInfo, type Answer } from '../src/engine/turn.js';
import { askChoice, choicesFrom, textReply } from './common.js';
import { DIALOG } from './ids.js';

/** `privacy.erase`: asks for confirmation, then erases the citizen's personal data everywhere. */
export class PrivacyDialog extends ComponentDialog {
  constructor() {
    super(DIALOG.privacy);
    this.addDialog(new AskPrompt(DIALOG.ask));
    this.addDialog(new WaterfallDialog('privacy.steps', [(s) => this.confirm(s), (s) => this.erase(s)]));
    this.initialDialogId = 'privacy.steps';
  }

  private async confirm(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const choices = choicesFrom(step.context, 'privacy.choice', ['erase', 'keep']);
    return askChoice(step, 'privacy.confirm', choices);
  }

  private async erase(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const answer = step.result as Answer;
    if (answer.kind !== 'choice' || answer.value !== 'erase') {
      await say(step.context, textReply(step.context, 'privacy.kept'));
      return step.endDialog();
    }
    const info = turnInfo(step.context);
    await info.services.eraseCitizen(info.citizenId);
    info.outcome.erased = true;
    await say(step.context, textReply(step.context, 'privacy.erased'));
    return step.endDialog();
  }
}
