/**
 * A collection's documents are packed into their BSON bytes once left unwritten for a while, and read
 * back exactly as they were written, whatever their types.
 */
import { Binary, Decimal128, Long, ObjectId, Timestamp } from 'bson';
import { describe, expect, it, vi } from 'vitest';
import { Documents } from '../../src/db/embedded/documents.js';
import { WireServer } from '../../src/db/embedded/server.js';
import { Store } from '../../src/db/embedded/store.js';
import { keyOf, type Doc } from '../../src/db/embedded/values.js';

const rich = (): Doc => ({
  _id: new ObjectId('64b000000000000000000001'),
  text: 'Bonjour, مرحبا, 你好',
  n: 42,
  negZero: -0,
  big: 2 ** 40,
  half: 0.5,
  long: Long.fromString('9007199254740993'),
  at: new Date(Date.UTC(2026, 10, 27)),
  none: null,
  flags: [true, false],
  nested: { lines: [{ from: 'citizen', text: 'hello' }], empty: {} },
  re: /^pot+hole$/i,
  bin: new Binary(Buffer.from([1, 2, 3])),
  dec: Decimal128.fromString('1.10'),
  ts: new Timestamp({ t: 1, i: 2 }),
});

/** How the stored document is held: an object or packed bytes. */
function heldAs(docs: Documents, id: string): string {
  return typeof docs.capture()[[...docs.keys()].indexOf(id)];
}

describe('stored documents', () => {
  it('are packed only after `age` periods without a write', () => {
    const docs = new Documents();
    docs.set('a', { _id: 'a', v: 1 });
    expect(docs.cool(2)).toBe(0);
    docs.set('b', { _id: 'b', v: 1 });
    expect(docs.cool(2)).toBe(0);
    expect(docs.cool(2)).toBe(1); // a, written three periods ago
    expect(heldAs(docs, 'a')).toBe('string');
    expect(heldAs(docs, 'b')).toBe('object');
    docs.set('b', { _id: 'b', v: 2 }); // written again: its clock restarts
    expect(docs.cool(2)).toBe(0);
    expect(docs.cool(2)).toBe(0);
    expect(docs.cool(2)).toBe(1);
    expect(docs.get('b')).toEqual({ _id: 'b', v: 2 });
  });

  it('are packed at most `max` at a time, least recently written first', () => {
    const docs = new Documents();
    for (const id of ['a', 'b', 'c']) docs.set(id, { _id: id });
    docs.set('a', { _id: 'a', v: 2 });
    expect(docs.cool(0, 2)).toBe(2);
    expect(['a', 'b', 'c'].map((id) => heldAs(docs, id))).toEqual(['object', 'string', 'string']);
    expect(docs.cool(0, 2)).toBe(1);
    expect(heldAs(docs, 'a')).toBe('string');
  });

  it('read back packed exactly as written, in natural order', () => {
    const docs = new Documents();
    const doc = rich();
    docs.set('x', doc);
    docs.set('y', { _id: 'y' });
    expect(docs.cool(0)).toBe(2);
    expect(heldAs(docs, 'x')).toBe('string');
    const back = docs.get('x');
    expect(back).toEqual(doc);
    expect(back).not.toBe(doc);
    expect(Object.is(back?.['negZero'], -0)).toBe(true);
    expect(Object.keys(back ?? {})).toEqual(Object.keys(doc));
    expect([...docs.keys()]).toEqual(['x', 'y']);
    expect([...docs.values()]).toEqual([doc, { _id: 'y' }]);
  });

  it('are held as objects again once read by id, until left alone again; a scan leaves them packed', () => {
    const docs = new Documents();
    docs.set('x', { _id: 'x', v: 1 });
    docs.set('y', { _id: 'y', v: 1 });
    docs.cool(0);
    expect([...docs.values()]).toEqual([
      { _id: 'x', v: 1 },
      { _id: 'y', v: 1 },
    ]);
    expect(['x', 'y'].map((id) => heldAs(docs, id))).toEqual(['string', 'string']);
    const read = docs.get('x');
    expect(['x', 'y'].map((id) => heldAs(docs, id))).toEqual(['object', 'string']);
    expect(docs.get('x')).toBe(read);
    expect(docs.cool(1)).toBe(0);
    expect(docs.cool(1)).toBe(1);
    expect(heldAs(docs, 'x')).toBe('string');
  });

  it('holds a write as an object again, and forgets a deleted document', () => {
    const docs = new Documents();
    docs.set('x', { _id: 'x', v: 1 });
    docs.cool(0);
    const next = { _id: 'x', v: 2 };
    docs.set('x', next);
    expect(docs.get('x')).toBe(next);
    expect(docs.delete('x')).toBe(true);
    expect(docs.cool(0)).toBe(0);
    expect(docs.get('x')).toBeUndefined();
    expect(docs.size).toBe(0);
  });

  it('stay objects when they cannot be written as BSON', () => {
    const docs = new Documents();
    const loop: Doc = { _id: 'loop' };
    loop['self'] = loop;
    docs.set('loop', loop);
    docs.set('ok', { _id: 'ok' });
    expect(docs.cool(0)).toBe(1);
    expect(docs.get('loop')).toBe(loop);
    expect(heldAs(docs, 'ok')).toBe('string');
  });

  it('report their BSON size packed or not', () => {
    const docs = new Documents();
    docs.set('x', rich());
    const before = [...docs.bsonSizes()];
    docs.cool(0);
    expect([...docs.bsonSizes()]).toEqual(before);
  });

  it('are packed by the server on its timer, once left alone for packAfterMs', async () => {
    const store = new Store();
    const server = new WireServer({ store, log: () => undefined, ttlIntervalMs: 60_000, packAfterMs: 500 });
    try {
      const coll = store.ensure('app', 'c', {});
      coll.put({ _id: 'x', v: 1 });
      const id = keyOf('x');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(heldAs(coll.docs, id)).toBe('object');
      // Three ticks of 250 ms after the write: about 750 ms, later on a busy machine.
      await vi.waitFor(() => expect(heldAs(coll.docs, id)).toBe('string'), { timeout: 5000, interval: 50 });
      expect(coll.docs.get(id)).toEqual({ _id: 'x', v: 1 });
    } finally {
      await server.close();
    }
  });
});
