// First, so that botbuilder's files load with native async functions (see native-async.ts).
import '../src/engine/native-async.js';
import {
  ComponentDialog,
  WaterfallDialog,
  type WaterfallStepContext,
  type DialogTurnResult,
} from 'botbuilder-dialogs';
import { extractReferences } from '../src/nlu/references.js';
import { AskPrompt, say, turnInfo, type Answer } from '../src/engine/turn.js';
import { askText, formatDate, textReply } from './common.js';
import { DIALOG } from './ids.js';

export interface CaseStatusOptions {
  /** A reference already found in the message that started the flow. */
  reference?: string;
}

/**
 * "Any news on C-7K4P9Q?": answers with the status and last update of the citizen's own case. Anyone
 * else, and an unknown reference, get the same "not found".
 */
export class CaseStatusDialog extends ComponentDialog {
  constructor() {
    super(DIALOG.caseStatus);
    this.addDialog(new AskPrompt(DIALOG.ask));
    this.addDialog(
      new WaterfallDialog('caseStatus.steps', [(s) => this.askReference(s), (s) => this.answer(s)]),
    );
    this.initialDialogId = 'caseStatus.steps';
  }

  private async askReference(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const options = (step.options ?? {}) as CaseStatusOptions;
    if (options.reference) return step.next({ kind: 'text', text: options.reference } satisfies Answer);
    return askText(step, 'status.ask_reference', 'status.retry_reference', 2);
  }

  private async answer(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const info = turnInfo(step.context);
    const answer = step.result as Answer;
    const typed = answer.kind === 'text' ? answer.text : '';
    const reference = extractReferences(typed)[0] ?? typed.trim().toUpperCase();
    const found = await info.services.caseForCitizen(reference, info.citizenId);
    if (!found) {
      await say(step.context, textReply(step.context, 'status.not_found', { reference }));
      return step.endDialog();
    }
    await say(
      step.context,
      textReply(step.context, 'status.answer', {
        reference: found.reference,
        status: info.t(`case_status.${found.status}`),
        updated: formatDate(step.context, found.updatedAt),
      }),
    );
    return step.endDialog();
  }
}
