// First, so that botbuilder's files load with native async functions (see native-async.ts).
import './native-async.js';
import {
  ActivityTypes,
  BotAdapter,
  TurnContext,
  type Activity as BfActivity,
  type ConversationReference,
  type ResourceResponse,
} from 'botbuilder';
import { DialogSet, type DialogState } from 'botbuilder-dialogs';
import type { Logger } from 'pino';
import { MainDialog } from '../../dialogs/main.js';
import type { Db } from '../db/connection.js';
import { MongoStorage } from '../db/storage.js';
import type { Translator } from '../i18n/index.js';
import { isLang, type Lang } from '../nlu/catalog.js';
import type { Understander } from '../nlu/understand.js';
import { conversationKey, type Activity, type Address } from './activity.js';
import { Citizens } from './citizens.js';
import { Inbox, type InboxOptions } from './inbox.js';
import { Outbox } from './outbox.js';
import { newProfile, takeLegacyTranscript, TRANSCRIPT_LIMIT, type Profile } from './profile.js';
import { replySchema, toPlainText, type Reply } from './replies.js';
import type { Services } from './services.js';
import { TurnState } from './state.js';
import { setTurnInfo, type TurnInfo } from './turn.js';

export interface EngineDeps {
  db: Db;
  nlu: Understander;
  i18n: Translator;
  services: Services;
  outbox: Outbox;
  log: Logger;
  timeZone: string;
  inbox?: InboxOptions;
  clock?: () => Date;
}

const REPLIES = Symbol('civic.replies');

/**
 * The Bot Framework adapter behind every channel: it collects what dialogs send into the turn's reply
 * list, which the engine persists to the outbox. Platforms are reached only through the outbox.
 */
class CollectingAdapter extends BotAdapter {
  async sendActivities(ctx: TurnContext, activities: Partial<BfActivity>[]): Promise<ResourceResponse[]> {
    const sink: unknown = ctx.turnState.get(REPLIES);
    if (!Array.isArray(sink)) throw new Error('reply sink missing: activities sent outside an engine turn');
    for (const activity of activities) {
      if (activity.type !== ActivityTypes.Message) continue;
      const carried: unknown = (activity.channelData as { reply?: unknown } | undefined)?.reply;
      // Most replies are plain text and carry nothing: a parse of nothing fails, and a failed parse
      // builds an error with its issues (a few microseconds and a few hidden classes, every reply).
      const reply = carried === undefined ? undefined : replySchema.safeParse(carried);
      if (reply?.success) sink.push(reply.data);
      else if (activity.text) sink.push({ kind: 'text', text: activity.text } satisfies Reply);
    }
    return activities.map(() => ({ id: '' }));
  }

  async updateActivity(): Promise<void> {
    throw new Error('Editing sent messages is not supported: replies go through the outbox.');
  }

  async deleteActivity(): Promise<void> {
    throw new Error('Deleting sent messages is not supported: replies go through the outbox.');
  }

  async continueConversation(
    reference: Partial<ConversationReference>,
    logic: (ctx: TurnContext) => Promise<void>,
  ): Promise<void> {
    const ctx = new TurnContext(this, {
      type: ActivityTypes.Event,
      name: 'proactive',
      ...refToActivity(reference),
    });
    ctx.turnState.set(REPLIES, []);
    await logic(ctx);
  }
}

function refToActivity(ref: Partial<ConversationReference>): Partial<BfActivity> {
  return {
    channelId: ref.channelId ?? 'unknown',
    conversation: {
      id: ref.conversation?.id ?? 'unknown',
      isGroup: false,
      conversationType: 'personal',
      name: '',
    },
    from: { id: ref.user?.id ?? 'unknown', name: '' },
    recipient: { id: 'bot', name: 'bot' },
  };
}

/**
 * The one engine every channel feeds: inbox (persist + de-duplicate) → state → language → intent →
 * dialogs → replies → outbox.
 *
 * @example
 * const engine = new Engine({ db, nlu, i18n, services, outbox, log, timeZone: 'UTC' });
 * await engine.receive(activity); // from any channel adapter, after parsing the platform payload
 */
export class Engine {
  readonly inbox: Inbox;
  private readonly adapter = new CollectingAdapter();
  private readonly conversationState: TurnState;
  private readonly dialogState;
  private readonly profileState;
  private readonly dialogs: DialogSet;
  private readonly clock: () => Date;
  private readonly citizens: Citizens;

  constructor(private readonly deps: EngineDeps) {
    this.conversationState = new TurnState(
      new MongoStorage(deps.db.StateItem, { guardOverwrites: true, keepRecent: TRANSCRIPT_LIMIT }),
    );
    this.dialogState = this.conversationState.createProperty<DialogState>('dialogState');
    this.profileState = this.conversationState.createProperty<Profile>('profile');
    this.dialogs = new DialogSet(this.dialogState);
    this.dialogs.add(new MainDialog());
    this.clock = deps.clock ?? (() => new Date());
    this.citizens = new Citizens(deps.db);
    this.inbox = new Inbox(
      deps.db,
      deps.log,
      (activity, id, attempt) => this.turn(activity, id, attempt),
      deps.inbox,
    );
  }

  /**
   * The entry point for every channel: persists the message (a duplicate delivery is a no-op) and
   * schedules its turn. Once this resolves the message is durable, and the platform may be acknowledged.
   */
  async receive(activity: Activity): Promise<'accepted' | 'duplicate'> {
    return (await this.inbox.accept(activity)).status;
  }

  /** Resolves when every accepted message has been processed and its replies handed to the outbox. */
  async idle(): Promise<void> {
    await this.inbox.idle();
  }

  /**
   * Tells a citizen something outside a turn (a case update, an official's answer), in order with
   * their conversation, and lets `update` change their conversation state (e.g. to ask for a rating).
   */
  async notify(
    address: Address,
    build: (profile: Profile, lang: Lang) => Reply[],
    keyBase: string,
    caseReference?: string,
  ): Promise<void> {
    await this.inbox.runInOrder(conversationKey(address), () =>
      this.adapter.continueConversation(
        {
          channelId: address.channel,
          conversation: { id: address.chatId, isGroup: false, conversationType: 'personal', name: '' },
          user: { id: address.userId, name: '' },
        },
        async (ctx) => {
          const profile = await this.loadProfile(ctx);
          const lang = profile.chosenLang ?? profile.lang ?? 'en';
          const replies = build(profile, lang);
          for (const reply of replies)
            this.conversationState.note(ctx, {
              from: 'bot',
              text: toPlainText(reply),
              at: this.clock().toISOString(),
            });
          await this.deps.outbox.enqueue(address, replies, keyBase, { caseReference });
          await this.conversationState.saveChanges(ctx);
        },
      ),
    );
  }

  /**
   * The conversation's profile; lines an earlier version kept in it are noted, to be stored beside
   * the state with this turn's.
   */
  private async loadProfile(ctx: TurnContext): Promise<Profile> {
    const profile = await this.profileState.get(ctx, newProfile());
    for (const line of takeLegacyTranscript(profile)) this.conversationState.note(ctx, line);
    return profile;
  }

  private async turn(
    activity: Activity,
    inboxId: string,
    { finalFailure, firstRun }: { finalFailure: boolean; firstRun: boolean },
  ): Promise<void> {
    const { db, i18n, outbox } = this.deps;
    if (finalFailure) {
      const lang =
        (
          await db.Citizen.findOne({
            channel: activity.address.channel,
            channelUserId: activity.address.userId,
          }).lean()
        )?.lang ?? 'en';
      await outbox.enqueue(
        activity.address,
        [{ kind: 'text', text: i18n.t('errors.turn', lang) }],
        `turn:${inboxId}:failed`,
      );
      return;
    }
    const now = this.clock();
    const ctx = new TurnContext(this.adapter, {
      type: ActivityTypes.Message,
      id: activity.platformMessageId,
      text: activity.text ?? '',
      ...refToActivity({
        channelId: activity.address.channel,
        conversation: { id: activity.address.chatId, isGroup: false, conversationType: 'personal', name: '' },
        user: { id: activity.address.userId, name: '' },
      }),
    });
    const replies: Reply[] = [];
    ctx.turnState.set(REPLIES, replies);

    // The citizen record and the conversation state are read at the same time; the record's language
    // is written at the end, and only when it changed.
    const [profile, citizen] = await Promise.all([
      this.loadProfile(ctx),
      this.citizens.seen({ address: activity.address, at: activity.at, now }),
    ]);
    const spoken = profile.lang;
    const text = activity.text?.trim() ?? '';
    const hinted = activity.localeHint?.slice(0, 2).toLowerCase();
    const { lang, nlu } = await this.deps.nlu.understand(text, {
      chosen: profile.chosenLang,
      prior: profile.lang ?? (isLang(hinted) ? hinted : 'en'),
    });
    const citizenId = String(citizen);

    if (text) this.conversationState.note(ctx, { from: 'citizen', text, at: now.toISOString() });

    const info: TurnInfo = {
      activity,
      lang,
      nlu,
      citizenId,
      profile,
      services: this.deps.services,
      now,
      timeZone: this.deps.timeZone,
      outcome: {},
      transcript: () => this.conversationState.transcript(ctx),
      t: (key, vars) => i18n.t(key, info.lang, vars),
      list: (key) => i18n.list(key, info.lang),
    };
    setTurnInfo(ctx, info);

    if (!(await this.forwardToLiveCase(info))) {
      const dc = await this.dialogs.createContext(ctx);
      const result = await dc.continueDialog();
      if (result.status === 'empty') await dc.beginDialog('main');
    }
    profile.lang = info.lang;
    for (const reply of replies)
      this.conversationState.note(ctx, { from: 'bot', text: toPlainText(reply), at: now.toISOString() });

    // Replies first (idempotent per inbox message), then state: a turn replayed after a crash between
    // the two re-sends nothing twice.
    await outbox.enqueue(activity.address, replies, `turn:${inboxId}`, { fresh: firstRun });
    if (info.outcome.erased) {
      await this.conversationState.delete(ctx);
    } else {
      // A new citizen, another language detected, or one the citizen chose in the dialogs.
      await Promise.all([
        spoken === info.lang ? undefined : this.citizens.speaks(citizen, info.lang),
        this.conversationState.saveChanges(ctx),
      ]);
    }
  }

  /** While an official handles the citizen's case, their messages go to the case, not to the bot. */
  private async forwardToLiveCase(info: TurnInfo): Promise<boolean> {
    const reference = info.profile.liveCase;
    if (reference === undefined) return false;
    const { activity } = info;
    const live = await info.services.appendCitizenMessage(
      reference,
      activity.text ?? '',
      activity.attachments ?? [],
      info.now,
    );
    if (!live) {
      info.profile.liveCase = undefined;
      return false;
    }
    return true;
  }
}
