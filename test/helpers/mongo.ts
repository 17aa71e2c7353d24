import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import { startEmbeddedMongo } from '../../src/db/embedded/index.js';

/** A database for one test file: a URI naming a fresh database, and how to dispose of it. */
export interface TestMongo {
  uri: string;
  /** The fresh database's name (also the path of `uri`). */
  dbName: string;
  /** True when running against a real MongoDB given by TEST_MONGODB_URI. */
  real: boolean;
  stop(): Promise<void>;
}

/** Replaces the database path of a mongodb:// URI, keeping hosts and options. */
export function withDatabase(uri: string, dbName: string): string {
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(\/[^?]*)?(\?.*)?$/.exec(uri);
  if (!m) throw new Error(`TEST_MONGODB_URI is not a mongodb:// URI: ${uri}`);
  return `${m[1]}/${dbName}${m[3] ?? ''}`;
}

/**
 * Starts what a test talks to: the real MongoDB at TEST_MONGODB_URI when set (a fresh database,
 * dropped on stop), otherwise a fresh in-memory embedded server (TTL swept every 200 ms).
 *
 * @example
 * ```ts
 * let db: TestMongo;
 * beforeAll(async () => { db = await startTestMongo(); await mongoose.connect(db.uri); });
 * afterAll(async () => { await mongoose.disconnect(); await db.stop(); });
 * ```
 */
export async function startTestMongo(): Promise<TestMongo> {
  const dbName = `test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const external = process.env['TEST_MONGODB_URI'];
  if (external) {
    const uri = withDatabase(external, dbName);
    return {
      uri,
      dbName,
      real: true,
      async stop() {
        const client = new mongoose.mongo.MongoClient(uri);
        try {
          await client.db(dbName).dropDatabase();
        } finally {
          await client.close();
        }
      },
    };
  }
  // Documents are packed a quarter of a second after their last write (5 s in the app), so the
  // suite reads packed documents as well as fresh ones.
  const server = await startEmbeddedMongo({ ttlIntervalMs: 200, packAfterMs: 0 });
  return { uri: withDatabase(server.uri, dbName), dbName, real: false, stop: () => server.close() };
}
