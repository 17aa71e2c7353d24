// First, so that botbuilder's files load with native async functions (see native-async.ts).
import './native-async.js';
import { ConversationState, type TurnContext } from 'botbuilder';

/** What botbuilder keeps per turn for a state: the properties read so far. */
type StateObject = Record<string, unknown>;

/**
 * botbuilder's ConversationState, saved whole at every turn. Its change detection hashes the whole
 * state (a JSON walk and a SHA-256) when it is loaded, before it is saved and after, three times a
 * turn; but every turn changes the state anyway (its transcript at least), so under load that was
 * about a twentieth of the event loop spent to learn that yes, it changed. Loading and the storage
 * key are botbuilder's; only the hashing is left out.
 *
 * @example
 * const state = new TurnState(new MongoStorage(db.StateItem, { guardOverwrites: true }));
 * const profile = state.createProperty<Profile>('profile');
 */
export class TurnState extends ConversationState {
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

  /** Writes the turn's state (when it was loaded; `force` writes an empty one otherwise). */
  override async saveChanges(context: TurnContext, force = false): Promise<void> {
    let state: unknown = this.get(context);
    if (!isStateObject(state)) {
      if (!force) return;
      await this.clear(context);
      state = this.get(context);
      if (!isStateObject(state)) return;
    }
    state['eTag'] = '*';
    await this.storage.write({ [await this.storageKey(context)]: state });
  }
}

function isStateObject(value: unknown): value is StateObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
