import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoSessionStore } from '../../src/channels/whatsapp-web/store.js';
import { openDatabase, type Db } from '../../src/db/connection.js';
import { startTestMongo, type TestMongo } from '../helpers/mongo.js';

let mongo: TestMongo;
let db: Db;
let dir: string;

beforeAll(async () => {
  mongo = await startTestMongo();
  db = await openDatabase(mongo.uri);
  dir = await mkdtemp(join(tmpdir(), 'wweb-store-'));
});
afterAll(async () => {
  await db?.close();
  await mongo?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('RemoteAuth session store in MongoDB', () => {
  it('keeps a saved session across a new connection, returns the newest version, and forgets it on delete', async () => {
    const store = new MongoSessionStore(db.connection, dir);
    const session = 'RemoteAuth-city';
    expect(await store.sessionExists({ session })).toBe(false);

    // Larger than one GridFS chunk (255 KiB), so chunking and reassembly are exercised.
    const first = randomBytes(600 * 1024);
    await writeFile(join(dir, `${session}.zip`), first);
    await store.save({ session });
    const second = randomBytes(300 * 1024);
    await writeFile(join(dir, `${session}.zip`), second);
    await store.save({ session });

    // What a restarted process sees: another connection, another working directory.
    const again = await openDatabase(mongo.uri, { seed: false });
    try {
      const restarted = new MongoSessionStore(again.connection, join(dir, 'elsewhere'));
      expect(await restarted.sessionExists({ session })).toBe(true);
      const out = join(dir, 'restored', `${session}.zip`);
      await restarted.extract({ session, path: out });
      expect((await readFile(out)).equals(second)).toBe(true);
      // Only the newest version is kept.
      expect(await again.connection.collection('wweb_sessions.files').countDocuments()).toBe(1);

      expect(await restarted.sessionExists({ session: 'RemoteAuth-other' })).toBe(false);
      await restarted.delete({ session });
      expect(await store.sessionExists({ session })).toBe(false);
      expect(await again.connection.collection('wweb_sessions.chunks').countDocuments()).toBe(0);
    } finally {
      await again.close();
    }
  });

  it('fails clearly when asked to extract a session that was never saved', async () => {
    const store = new MongoSessionStore(db.connection, dir);
    await expect(store.extract({ session: 'missing', path: join(dir, 'x.zip') })).rejects.toThrow(/missing/);
  });
});
