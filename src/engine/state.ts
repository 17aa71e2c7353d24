// First, so that botbuilder's files load with native async functions (see native-async.ts).
import './native-async.js';
import { ConversationState, type Storage, type StoreItems, type TurnContext } from 'botbuilder';
import { TRANSCRIPT_LIMIT, transcriptLines, type TranscriptLine } from './profile.js';

/**
 * The storage a {@link TurnState} needs: botbuilder's, with a bounded list of recent entries kept
 * beside each item, appended by the write of the item (`MongoStorage` with `keepRecent`).
 */
export interface StateStorage extends Storage {
  write(changes: StoreItems, recent?: Partial<Record<string, readonly object[]>>): Promise<void>;
  recent(key: string): Promise<unknown[]>;
}

/** What botbuilder keeps per turn for a state: the properties read so far. */
type StateObject = Record<string, unknown>;

/**
 * botbuilder's ConversationState, saved whole at every turn, with the conversation's recent lines
 * (the transcript a handoff gives the official) kept beside it: a turn notes its lines, and saving
 * appends them to the stored ones in the same update, so no turn reads or rewrites the transcript.
 *
 * botbuilder's change detection hashes the whole state (a JSON walk and a SHA-256) when it is
 * loaded, before it is saved and after, three times a turn; but every turn changes the state anyway,
 * so under load that was about a twentieth of the event loop spent to learn that yes, it changed.
 * Loading and the storage key are botbuilder's; only the hashing is left out.
 *
 * @example
 * const state = new TurnState(new MongoStorage(db.StateItem, { guardOverwrites: true, keepRecent: TRANSCRIPT_LIMIT }));
 * const profile = state.createProperty<Profile>('profile');
 * state.note(ctx, { from: 'citizen', text, at });
 */
export class TurnState extends ConversationState {
  /** Each turn's lines noted and not saved yet. */
  private readonly noted = new WeakMap<TurnContext, TranscriptLine[]>();

  constructor(private readonly store: StateStorage) {
    super(store);
  }

  override async load(context: TurnContext, force = false): Promise<StateObject> {
    const cached: unknown = this.get(context);
    if (!force && isStateObject(cached)) return cached;
    const key = await this.storageKey(context);
    const items = await this.storage.read([key]);
    // `clear` sets a fresh, empty state for the turn (with no hash to compare): it is filled in place.
    await this.clear(context);
    const state: unknown = this.get(context);
    if (!isStateObject(state)) throw new Error('conversation state missing right after it was set');
    Object.assign(state, items[key] ?? {});
    return state;
  }

  /** Notes a line of the conversation, stored with the state when the turn saves it. */
  note(context: TurnContext, line: TranscriptLine): void {
    this.lines(context).push(line);
  }

  /** The conversation's recent lines, oldest first: those stored, then those noted this turn. */
  async transcript(context: TurnContext): Promise<TranscriptLine[]> {
    const stored = transcriptLines(await this.store.recent(await this.storageKey(context)));
    return [...stored, ...this.lines(context)].slice(-TRANSCRIPT_LIMIT);
  }

  /** Writes the turn's state (when it was loaded; `force` writes an empty one otherwise) and its lines. */
  override async saveChanges(context: TurnContext, force = false): Promise<void> {
    let state: unknown = this.get(context);
    if (!isStateObject(state)) {
      if (!force) return;
      await this.clear(context);
      state = this.get(context);
      if (!isStateObject(state)) return;
    }
    state['eTag'] = '*';
    const key = await this.storageKey(context);
    const lines = this.lines(context);
    await this.store.write({ [key]: state }, { [key]: lines });
    lines.length = 0;
  }

  private lines(context: TurnContext): TranscriptLine[] {
    let lines = this.noted.get(context);
    if (!lines) {
      lines = [];
      this.noted.set(context, lines);
    }
    return lines;
  }
}

function isStateObject(value: unknown): value is StateObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
