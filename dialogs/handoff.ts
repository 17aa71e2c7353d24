// First, so that botbuilder's files load with native async functions (see native-async.ts).
import '../src/engine/native-async.js';
import { Dialog, type DialogContext, type DialogTurnResult } from 'botbuilder-dialogs';
import { say, turnInfo } from '../src/engine/turn.js';
import { textReply } from './common.js';
import { DIALOG } from './ids.js';

export interface HandoffOptions {
  /** Why the bot hands off: the citizen asked, or the model did not understand twice in a row. */
  reason: 'asked' | 'not_understood';
}

/**
 * Opens a case with the recent transcript in the citizen-services queue and tells the citizen what
 * happens next (also outside office hours). From then on the engine forwards their messages to the case.
 */
export class HandoffDialog extends Dialog<HandoffOptions> {
  constructor() {
    super(DIALOG.handoff);
  }

  override async beginDialog(dc: DialogContext, options?: HandoffOptions): Promise<DialogTurnResult> {
    const info = turnInfo(dc.context);
    if (info.profile.liveCase) {
      await say(dc.context, textReply(dc.context, 'handoff.already', { reference: info.profile.liveCase }));
      return dc.endDialog();
    }
    const created = await info.services.createCase({
      kind: 'handoff',
      category: options?.reason === 'not_understood' ? 'not_understood' : 'human_requested',
      description: info.activity.text ?? '',
      anonymous: false,
      contactConsent: true,
      citizenId: info.citizenId,
      address: info.activity.address,
      lang: info.lang,
      transcript: await info.transcript(),
    });
    info.profile.liveCase = created.reference;
    const key = info.services.officeOpen(info.now) ? 'handoff.created_open' : 'handoff.created_closed';
    await say(dc.context, textReply(dc.context, key, { reference: created.reference }));
    return dc.endDialog(created);
  }
}
