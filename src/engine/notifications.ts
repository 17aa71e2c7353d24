import type { Db } from '../db/connection.js';
import type { CaseStatus } from '../db/models/case.js';
import type { Translator } from '../i18n/index.js';
import { RATING_CHOICES } from '../../dialogs/main.js';
import type { Lang } from '../nlu/catalog.js';
import { addressSchema } from './activity.js';
import type { Profile } from './profile.js';
import type { Reply } from './replies.js';
import type { Engine } from './engine.js';

/**
 * Tells citizens, on their own channel, what happens to their cases: an official's answer, a change of
 * status, and the resolution (after which the bot resumes and asks for a 1–5 rating).
 */
export class CaseNotifier {
  constructor(
    private readonly engine: Engine,
    private readonly db: Db,
    private readonly i18n: Translator,
  ) {}

  /** Sends an official's answer; `key` makes a retried call a no-op. */
  async officialReply(reference: string, text: string, key: string): Promise<boolean> {
    return this.tell(reference, key, (lang) => [
      { kind: 'text', text: this.i18n.t('case_update.official_reply', lang, { reference, text }) },
    ]);
  }

  /** Tells the citizen the new status of their case (resolution included). */
  async statusChanged(reference: string, status: CaseStatus, key: string, note = ''): Promise<boolean> {
    if (status === 'resolved') {
      return this.tell(
        reference,
        key,
        (lang) => [
          { kind: 'text', text: this.i18n.t('case_update.resolved', lang, { reference, note }) },
          { kind: 'choices', text: this.i18n.t('case_update.rating_ask', lang), choices: RATING_CHOICES },
        ],
        (profile) => {
          if (profile.liveCase === reference) profile.liveCase = undefined;
          profile.awaitingRating = reference;
        },
      );
    }
    return this.tell(reference, key, (lang) => [
      {
        kind: 'text',
        text: this.i18n.t('case_update.status', lang, {
          reference,
          status: this.i18n.t(`case_status.${status}`, lang),
        }),
      },
    ]);
  }

  private async tell(
    reference: string,
    key: string,
    build: (lang: Lang) => Reply[],
    update?: (profile: Profile) => void,
  ): Promise<boolean> {
    const found = await this.db.Case.findOne({ reference }).lean();
    if (!found?.citizen) return false;
    const citizen = await this.db.Citizen.findById(found.citizen).lean();
    const address = addressSchema.safeParse(citizen?.address);
    if (!address.success) return false;
    await this.engine.notify(
      address.data,
      (profile, lang) => {
        update?.(profile);
        return build(lang);
      },
      key,
      reference,
    );
    return true;
  }
}
