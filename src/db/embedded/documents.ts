import { calculateObjectSize, deserialize, serialize } from 'bson';
import type { Doc } from './values.js';
import { DESERIALIZE } from './wire.js';

/**
 * A document as a collection holds it: the object itself while it is being written, its BSON bytes
 * (as a one-byte string) once it has been left alone for a while.
 */
export type Held = Doc | string;

/** Its BSON bytes, in a string of one byte per character: one object, holding no pointers. */
function pack(doc: Doc): string {
  const bytes = serialize(doc);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/**
 * A held document as an object (a snapshot reads what {@link Documents.capture} took with it). As
 * the wire reads documents, so that a packed document reads back as it was stored.
 */
export function unpack(held: Held): Doc {
  return typeof held === 'string' ? deserialize(Buffer.from(held, 'latin1'), DESERIALIZE) : held;
}

/**
 * A collection's documents by `_id` key, in insertion (natural) order, read like a `Map`.
 *
 * Documents that have not been written for a while are **packed**: kept as their BSON bytes in a
 * string instead of as objects. The app keeps every processed message for 30 days (to de-duplicate
 * late re-deliveries), so at 520 messages a second this server soon holds ~100,000 of them, almost
 * none ever read again. As objects they are about twenty heap objects each (two million in all), and
 * every full garbage collection of the server's thread marked all of them while every command
 * waited; packed, each is one string with no pointers to follow. A read by `_id` or through an index
 * unpacks it (about 9 µs for a message) and holds it as an object again, and a write stores the new
 * version as an object; either is packed in its turn once left alone. A full scan unpacks copies and
 * leaves the stored ones packed. Stored documents are never changed in place, so packing one changes
 * nothing a reader can see.
 */
export class Documents {
  private readonly held = new Map<string, Held>();
  /**
   * The documents held as objects, each with the period it was last written in, least recently
   * written first (a write moves its document to the end).
   */
  private readonly writtenIn = new Map<string, number>();
  private period = 0;

  get size(): number {
    return this.held.size;
  }

  /**
   * The document, or undefined. A packed one is unpacked and held as an object again, until it is
   * left alone for as long as a written one: the cases of a department's queue are read by every
   * claim, and unpacking a backlog of 2,000 of them at every claim took the queue's concurrency
   * test from 3.7 to 11.8 s.
   */
  get(id: string): Doc | undefined {
    const held = this.held.get(id);
    if (typeof held !== 'string') return held;
    const doc = unpack(held);
    this.set(id, doc);
    return doc;
  }

  /** Stores `doc`, as an object until {@link cool} packs it. */
  set(id: string, doc: Doc): void {
    this.held.set(id, doc);
    this.writtenIn.delete(id);
    this.writtenIn.set(id, this.period);
  }

  delete(id: string): boolean {
    this.writtenIn.delete(id);
    return this.held.delete(id);
  }

  keys(): IterableIterator<string> {
    return this.held.keys();
  }

  /** Every document, unpacking each packed one as it is reached (a copy: a scan leaves them packed). */
  *values(): IterableIterator<Doc> {
    for (const held of this.held.values()) yield unpack(held);
  }

  *entries(): IterableIterator<[string, Doc]> {
    for (const [id, held] of this.held) yield [id, unpack(held)];
  }

  [Symbol.iterator](): IterableIterator<[string, Doc]> {
    return this.entries();
  }

  /** Each document's BSON size, without unpacking. */
  *bsonSizes(): IterableIterator<number> {
    for (const held of this.held.values())
      yield typeof held === 'string' ? held.length : calculateObjectSize(held);
  }

  /**
   * The documents as they are now, to be read later with {@link unpack} (a snapshot written in
   * the background): taking the list is cheap, unpacking is left to whoever reads it.
   */
  capture(): Held[] {
    return [...this.held.values()];
  }

  /**
   * Ends a period: packs the documents last written `age` or more periods before the one ending now
   * (0: every document written so far) and not written since, least recently written first, at most
   * `max` of them (the rest wait for the next call). Returns how many it packed. The server calls
   * it on a timer; the bound keeps each call short after a restart, when every document is new.
   */
  cool(age: number, max = Infinity): number {
    const upTo = this.period - age;
    this.period += 1;
    let packed = 0;
    for (const [id, at] of this.writtenIn) {
      if (at > upTo || packed >= max) break;
      this.writtenIn.delete(id);
      const held = this.held.get(id);
      if (held === undefined || typeof held === 'string') continue;
      let bytes: string;
      try {
        bytes = pack(held);
      } catch {
        continue; // Not expressible in BSON (no document that came over the wire): it stays an object.
      }
      this.held.set(id, bytes);
      packed += 1;
    }
    return packed;
  }
}
