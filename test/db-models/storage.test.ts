import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConversationState, MemoryStorage, TestAdapter, TurnContext } from 'botbuilder';
import { ETagConflictError, MongoStorage } from '../../src/db/storage.js';
import { newProfile, takeLegacyTranscript, type Profile } from '../../src/engine/profile.js';
import { TurnState } from '../../src/engine/state.js';
import { openTestDb, type TestDb } from '../cases/support.js';

let t: TestDb;
let storage: MongoStorage;

beforeAll(async () => {
  t = await openTestDb();
  storage = new MongoStorage(t.db.StateItem);
});
afterAll(async () => t.stop());
beforeEach(async () => {
  await t.db.StateItem.deleteMany({});
});

describe('MongoStorage', () => {
  it('reads back what was written, with an eTag, and nothing for unknown keys', async () => {
    await storage.write({ a: { topic: 'complaint', step: 2, nested: { list: [1, 'x'] } } });
    const items = await storage.read(['a', 'missing']);
    expect(Object.keys(items)).toEqual(['a']);
    expect(items.a).toMatchObject({ topic: 'complaint', step: 2, nested: { list: [1, 'x'] } });
    expect(typeof items.a.eTag).toBe('string');
    expect(items.a.eTag.length).toBeGreaterThan(0);
  });

  it('keeps keys botbuilder state really has: dots, dollar-prefixed names, unicode', async () => {
    const item = { 'a.b': 1, $instance: { text: 'x' }, ключ: 'значение', 名前: '市役所' };
    await storage.write({ 'telegram/conversations/42': item });
    const items = await storage.read(['telegram/conversations/42']);
    expect(items['telegram/conversations/42']).toMatchObject(item);
  });

  it('changes the eTag on every write', async () => {
    await storage.write({ k: { n: 1 } });
    const first = (await storage.read(['k'])).k.eTag;
    await storage.write({ k: { n: 2, eTag: first } });
    const second = (await storage.read(['k'])).k;
    expect(second.n).toBe(2);
    expect(second.eTag).not.toBe(first);
  });

  it('rejects a write with a stale eTag and keeps the newer value', async () => {
    await storage.write({ k: { n: 1 } });
    const readByA = (await storage.read(['k'])).k;
    const readByB = (await storage.read(['k'])).k;
    await storage.write({ k: { ...readByA, n: 2 } });
    await expect(storage.write({ k: { ...readByB, n: 3 } })).rejects.toBeInstanceOf(ETagConflictError);
    expect((await storage.read(['k'])).k.n).toBe(2);
  });

  it("overwrites whatever is stored when the eTag is '*' or absent", async () => {
    await storage.write({ k: { n: 1 } });
    await storage.write({ k: { n: 2, eTag: '*' } });
    expect((await storage.read(['k'])).k.n).toBe(2);
    await storage.write({ k: { n: 3 } });
    expect((await storage.read(['k'])).k.n).toBe(3);
  });

  it('rejects a write with an eTag after the item was deleted (erased state is not resurrected)', async () => {
    await storage.write({ k: { name: 'Amina' } });
    const stale = (await storage.read(['k'])).k;
    await storage.delete(['k']);
    await expect(storage.write({ k: stale })).rejects.toBeInstanceOf(ETagConflictError);
    expect(await storage.read(['k'])).toEqual({});
  });

  it('deletes the given keys and ignores unknown ones', async () => {
    await storage.write({ a: { n: 1 }, b: { n: 2 } });
    await storage.delete(['a', 'nope']);
    const items = await storage.read(['a', 'b']);
    expect(Object.keys(items)).toEqual(['b']);
  });

  it('lets exactly one of many concurrent writers with the same eTag win', async () => {
    await storage.write({ k: { n: 0 } });
    const read = (await storage.read(['k'])).k;
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => storage.write({ k: { ...read, n: i + 1 } })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(9);
  });

  it("carries botbuilder's ConversationState across turns, as MemoryStorage does", async () => {
    const run = async (store: MongoStorage | MemoryStorage): Promise<number[]> => {
      const state = new ConversationState(store);
      const counter = state.createProperty<number>('count');
      const seen: number[] = [];
      const adapter = new TestAdapter(async (context) => {
        const n = (await counter.get(context, 0)) + 1;
        await counter.set(context, n);
        seen.push(n);
        await state.saveChanges(context);
      });
      await adapter.send('one');
      await adapter.send('two');
      await adapter.send('three');
      return seen;
    };
    expect(await run(storage)).toEqual(await run(new MemoryStorage()));
    expect(await run(new MongoStorage(t.db.StateItem))).toEqual([4, 5, 6]);
    expect(await run(new MongoStorage(t.db.StateItem, { guardOverwrites: true }))).toEqual([7, 8, 9]);
  });
});

describe('MongoStorage guarding overwrites (the engine: botbuilder saves every turn with eTag *)', () => {
  it("refuses a turn's save when the state it read was erased meanwhile, and writes nothing back", async () => {
    const guarded = new MongoStorage(t.db.StateItem, { guardOverwrites: true });
    await guarded.write({ chat: { transcript: ['my name is Amina'] } });
    const read = (await guarded.read(['chat'])).chat;
    await t.db.StateItem.deleteMany({ _id: 'chat' }); // an erasure from the officials' console
    await expect(guarded.write({ chat: { ...read, eTag: '*' } })).rejects.toBeInstanceOf(ETagConflictError);
    expect(await t.db.StateItem.countDocuments({ _id: 'chat' })).toBe(0);
  });

  it('refuses to create over a state someone else created after it read none', async () => {
    const guarded = new MongoStorage(t.db.StateItem, { guardOverwrites: true });
    expect(await guarded.read(['fresh'])).toEqual({});
    await storage.write({ fresh: { by: 'other instance' } });
    await expect(guarded.write({ fresh: { by: 'me', eTag: '*' } })).rejects.toBeInstanceOf(ETagConflictError);
    expect((await storage.read(['fresh'])).fresh.by).toBe('other instance');
  });

  it('saves turn after turn, twice in one turn too, and overwrites keys it never read', async () => {
    const guarded = new MongoStorage(t.db.StateItem, { guardOverwrites: true });
    await guarded.read(['g']);
    await guarded.write({ g: { n: 1, eTag: '*' } });
    await guarded.write({ g: { n: 2, eTag: '*' } });
    await guarded.read(['g']);
    await guarded.write({ g: { n: 3, eTag: '*' } });
    expect((await storage.read(['g'])).g.n).toBe(3);
    await storage.write({ never: { n: 1 } });
    await guarded.write({ never: { n: 2, eTag: '*' } });
    expect((await storage.read(['never'])).never.n).toBe(2);
  });
});

describe('recent entries kept beside each item (the conversation transcript)', () => {
  const line = (n: number): { from: 'citizen'; text: string; at: string } => ({
    from: 'citizen',
    text: `line ${n}`,
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  });
  const texts = (lines: unknown[]): unknown[] =>
    lines.map((l) => (typeof l === 'object' && l !== null && 'text' in l ? l.text : l));
  /** A turn of conversation `id` with a fresh context, as the engine starts each one. */
  const turnIn = (id: string): TurnContext =>
    new TurnContext(new TestAdapter(), {
      type: 'message',
      channelId: 'test',
      conversation: { id, isGroup: false, conversationType: 'personal', name: '' },
      from: { id: `u-${id}`, name: '' },
      recipient: { id: 'bot', name: '' },
    });

  it('appends with each write, on every write path, keeps the last ones, and never reads them with the item', async () => {
    for (const guardOverwrites of [false, true]) {
      const store = new MongoStorage(t.db.StateItem, { guardOverwrites, keepRecent: 3 });
      const key = `chat-${String(guardOverwrites)}`;
      await store.read([key]); // guarded: the key is known to be absent, so the first write creates it
      await store.write({ [key]: { n: 1, eTag: '*' } }, { [key]: [line(1), line(2)] });
      expect(texts(await store.recent(key))).toEqual(['line 1', 'line 2']);
      await store.write({ [key]: { n: 2, eTag: '*' } }, { [key]: [line(3), line(4)] });
      await store.write({ [key]: { n: 3, eTag: '*' } }); // a write with nothing to append keeps them
      expect(texts(await store.recent(key))).toEqual(['line 2', 'line 3', 'line 4']);
      const item = (await store.read([key]))[key];
      expect(item).toMatchObject({ n: 3 });
      expect(item).not.toHaveProperty('recent');
      await store.delete([key]);
      expect(await store.recent(key)).toEqual([]);
    }
  });

  it('appends nothing when the write is refused for a stale eTag', async () => {
    const store = new MongoStorage(t.db.StateItem, { keepRecent: 5 });
    await store.write({ k: { n: 1 } }, { k: [line(1)] });
    const stale = (await store.read(['k'])).k;
    await store.write({ k: { n: 2 } }, { k: [line(2)] });
    await expect(store.write({ k: { ...stale, n: 3 } }, { k: [line(3)] })).rejects.toBeInstanceOf(
      ETagConflictError,
    );
    expect(texts(await store.recent('k'))).toEqual(['line 1', 'line 2']);
  });

  it("gives a turn the stored lines and its own, bounded, and moves an older profile's lines out of the state", async () => {
    const state = new TurnState(new MongoStorage(t.db.StateItem, { guardOverwrites: true, keepRecent: 40 }));
    const profile = state.createProperty<Profile>('profile');
    const turnCtx = (): TurnContext => turnIn('c9');
    // State as an earlier version saved it, with the transcript inside the profile.
    const first = turnCtx();
    await profile.set(first, { unknownStreak: 0, transcript: [line(0)] } as Profile);
    await state.saveChanges(first);

    for (let n = 1; n <= 44; n += 1) {
      const ctx = turnCtx();
      const loaded = await profile.get(ctx, newProfile());
      for (const old of takeLegacyTranscript(loaded)) state.note(ctx, old);
      state.note(ctx, line(n));
      if (n === 44) {
        const seen = await state.transcript(ctx);
        expect(seen).toHaveLength(40);
        expect(texts(seen.slice(-2))).toEqual(['line 43', 'line 44']); // this turn's line, not saved yet
      }
      await state.saveChanges(ctx);
    }
    const stored = await state.transcript(turnCtx());
    expect(texts(stored)).toEqual(Array.from({ length: 40 }, (_, i) => `line ${i + 5}`));
    const docs = await t.db.StateItem.find({}).lean(); // this conversation's only
    expect(docs).toHaveLength(1);
    const json = docs[0]?.json ?? '';
    expect(json).not.toContain('transcript');
    expect(json).toContain('unknownStreak');
  });

  it('leaves out a malformed stored line and still gives the handoff the others', async () => {
    const state = new TurnState(new MongoStorage(t.db.StateItem, { guardOverwrites: true, keepRecent: 40 }));
    const turnCtx = (): TurnContext => turnIn('c10');
    const ctx = turnCtx();
    await state.load(ctx);
    state.note(ctx, line(1));
    await state.saveChanges(ctx);
    // A line written by hand, or by a future version, that this one cannot read.
    await t.db.StateItem.updateOne(
      {},
      { $push: { recent: { $each: [{ from: 'robot' }, { from: 'bot', text: 42 }] } } },
    );
    const later = turnCtx();
    await state.load(later);
    state.note(later, line(2));
    expect(texts(await state.transcript(later))).toEqual(['line 1', 'line 2']);
  });
});
