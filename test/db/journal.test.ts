/**
 * Compaction of the embedded server's journal runs beside the writes: while a snapshot is written,
 * writes are still journaled and acknowledged, and a crash before the snapshot is complete loses
 * none of them.
 */
import { EJSON } from 'bson';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand, type CommandContext } from '../../src/db/embedded/commands.js';
import { Cursors } from '../../src/db/embedded/cursors.js';
import { Journal, recover } from '../../src/db/embedded/journal.js';
import { Store } from '../../src/db/embedded/store.js';
import type { Doc } from '../../src/db/embedded/values.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  dirs.push(dir);
  return dir;
}

/** A snapshot that stops before its last record until `release()`: a compaction caught in the middle. */
function gated(records: () => Iterable<Doc>): {
  snapshot: () => AsyncIterable<Doc>;
  started: () => number;
  release: () => void;
} {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let started = 0;
  return {
    snapshot: () => {
      started += 1;
      const taken = records();
      return (async function* () {
        yield* taken;
        await gate;
      })();
    },
    started: () => started,
    release: () => open(),
  };
}

/** Every document of every collection, in a canonical text form. */
function contents(store: Store): string {
  const out: Record<string, unknown[]> = {};
  for (const [db, colls] of store.dbs)
    for (const [c, coll] of colls)
      out[`${db}.${c}`] = [...coll.docs.values()].sort((a, b) =>
        String(a['_id']).localeCompare(String(b['_id'])),
      );
  return EJSON.stringify(out, { relaxed: false });
}

describe('journal compaction', () => {
  it('acknowledges writes while the snapshot is written, and a crash then loses none', async () => {
    const dir = tempDir();
    const store = new Store();
    const recovered = recover(dir, () => undefined);
    const snap = gated(() => store.snapshotRecords());
    const journal = await Journal.open({
      dir,
      generation: recovered.generation,
      snapshot: snap.snapshot,
      compactAfterBytes: 4 * 1024,
      log: () => undefined,
    });
    store.journal = journal;
    const ctx: CommandContext = { store, cursors: new Cursors(), db: 'app', connectionId: 1, remote: 't' };
    const ok = async (body: Doc): Promise<void> => {
      expect(await runCommand(body, ctx)).toMatchObject({ ok: 1 });
    };

    await ok({ createIndexes: 'c', indexes: [{ key: { email: 1 }, name: 'email_1', unique: true }] });
    // Enough journal to pass 4 KiB: the write after that starts the compaction, which then waits at its gate.
    for (let i = 0; snap.started() === 0; i++) {
      await ok({ insert: 'c', documents: [{ _id: i, email: `u${i}@x`, n: 0, pad: 'x'.repeat(200) }] });
      // Packed once written (documents.ts): the snapshot holds packed documents as well as objects.
      store.cool(0);
    }
    // Writes during the snapshot: updates of documents it holds (not all: the others are only in
    // the snapshot), deletions, new documents.
    for (let i = 0; i < 8; i++) {
      await ok({ update: 'c', updates: [{ q: { _id: i }, u: { $inc: { n: 1 } } }] });
    }
    await ok({ delete: 'c', deletes: [{ q: { _id: { $lt: 5 } }, limit: 0 }] });
    await ok({ insert: 'c', documents: [{ _id: 'late', email: 'late@x', n: 7 }] });
    expect(snap.started()).toBe(1);
    const files = readdirSync(dir);
    expect(files.some((f) => /^snapshot-\d+\.bson$/.test(f))).toBe(false);
    expect(files.filter((f) => f.startsWith('journal-')).length).toBe(2);

    // A crash now: start-up has no complete snapshot, and replays both journals.
    const crashed = new Store();
    const afterCrash = recover(dir, () => undefined);
    expect(afterCrash.snapshot).toEqual([]);
    for (const r of afterCrash.journal) crashed.replay(r);
    expect(contents(crashed)).toBe(contents(store));

    // The snapshot completes: the old generation goes, and start-up from it gives the same state.
    snap.release();
    await journal.close();
    const gen = afterCrash.generation;
    expect(existsSync(join(dir, `snapshot-${gen}.bson`))).toBe(true);
    expect(existsSync(join(dir, `journal-${gen - 1}.log`))).toBe(false);
    const reopened = new Store();
    const fromSnapshot = recover(dir, () => undefined);
    expect(fromSnapshot.snapshot.length).toBeGreaterThan(1);
    for (const r of fromSnapshot.snapshot) reopened.replay(r);
    for (const r of fromSnapshot.journal) reopened.replay(r);
    expect(contents(reopened)).toBe(contents(store));
    const dup = await runCommand(
      { insert: 'c', documents: [{ _id: 'again', email: 'late@x' }] },
      { ...ctx, store: reopened },
    );
    expect(dup['writeErrors']).toMatchObject([{ code: 11000 }]);
  });
});
