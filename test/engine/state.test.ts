import { MemoryStorage, TestAdapter, TurnContext, type StoreItems } from 'botbuilder';
import { describe, expect, it } from 'vitest';
import { TurnState } from '../../src/engine/state.js';

/** A MemoryStorage that counts reads and writes (and keeps no recent lines: see storage.test.ts). */
class CountingStorage extends MemoryStorage {
  reads = 0;
  writes = 0;
  recent(): Promise<unknown[]> {
    return Promise.resolve([]);
  }
  override read(keys: string[]): Promise<StoreItems> {
    this.reads += 1;
    return super.read(keys);
  }
  override write(changes: StoreItems): Promise<void> {
    this.writes += 1;
    return super.write(changes);
  }
}

const turn = (text: string): TurnContext =>
  new TurnContext(new TestAdapter(), {
    type: 'message',
    text,
    channelId: 'test',
    conversation: { id: 'c1', isGroup: false, conversationType: 'personal', name: '' },
    from: { id: 'u1', name: '' },
    recipient: { id: 'bot', name: '' },
  });

describe('conversation state saved whole at every turn', () => {
  it('keeps what a turn changed for the next turn, reading storage once per turn', async () => {
    const storage = new CountingStorage();
    const state = new TurnState(storage);
    const count = state.createProperty<{ n: number }>('count');

    for (let i = 1; i <= 3; i += 1) {
      const ctx = turn(`message ${i}`);
      const value = await count.get(ctx, { n: 0 });
      value.n += 1;
      expect((await count.get(ctx))?.n).toBe(i); // the same object again, not a second read
      await state.saveChanges(ctx);
    }
    expect(storage.reads).toBe(3);
    expect(storage.writes).toBe(3);
    expect(await count.get(turn('later'))).toEqual({ n: 3 });
  });

  it('writes nothing for a turn that never loaded the state, and deletes it on request', async () => {
    const storage = new CountingStorage();
    const state = new TurnState(storage);
    const profile = state.createProperty<{ lang: string }>('profile');
    await state.saveChanges(turn('nothing read'));
    expect(storage.writes).toBe(0);

    const ctx = turn('hello');
    await profile.set(ctx, { lang: 'fr' });
    await state.saveChanges(ctx);
    expect(await profile.get(turn('again'))).toEqual({ lang: 'fr' });
    const erase = turn('erase me');
    await profile.get(erase);
    await state.delete(erase);
    expect(await profile.get(turn('after'))).toBeUndefined();
  });
});
