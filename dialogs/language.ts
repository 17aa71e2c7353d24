// First, so that botbuilder's files load with native async functions (see native-async.ts).
import '../src/engine/native-async.js';
import {
  ComponentDialog,
  WaterfallDialog,
  type WaterfallStepContext,
  type DialogTurnResult,
} from 'botbuilder-dialogs';
import { isLang, LANGS } from '../src/nlu/catalog.js';
import { AskPrompt, say, turnInfo, type Answer } from '../src/engine/turn.js';
import { askChoice } from './common.js';
import type { Choice } from '../src/engine/replies.js';
import { DIALOG } from './ids.js';

/** `language.change`: the citizen picks one of the six languages; it then wins over detection. */
export class LanguageDialog extends ComponentDialog {
  constructor() {
    super(DIALOG.language);
    this.addDialog(new AskPrompt(DIALOG.ask));
    this.addDialog(new WaterfallDialog('language.steps', [(s) => this.askLanguage(s), (s) => this.apply(s)]));
    this.initialDialogId = 'language.steps';
  }

  private async askLanguage(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const { t } = turnInfo(step.context);
    // Each language is named in itself, so a citizen finds theirs whatever language the bot speaks now.
    const choices: Choice[] = LANGS.map((lang) => ({ value: lang, label: t(`language.self_name_${lang}`) }));
    return askChoice(step, 'language.ask', choices);
  }

  private async apply(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const info = turnInfo(step.context);
    const answer = step.result as Answer;
    if (answer.kind === 'choice' && isLang(answer.value)) {
      info.profile.chosenLang = answer.value;
      info.profile.lang = answer.value;
      info.lang = answer.value;
      await say(step.context, { kind: 'text', text: info.t('language.changed') });
    }
    return step.endDialog();
  }
}
