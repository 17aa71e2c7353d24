import { startTestMongo } from '../helpers/mongo.js';
import { openDatabase, type Db } from '../../src/db/connection.js';

/** A fresh database on a test MongoDB server, with the default departments and routes seeded. */
export interface TestDb {
  db: Db;
  uri: string;
  /** Opens another, separate connection (own socket pool) to the same database. */
  another(): Promise<Db>;
  stop(): Promise<void>;
}

/**
 * Starts a test server (or uses TEST_MONGODB_URI) and opens a fresh database on it, so test files never
 * share data.
 */
export async function openTestDb(): Promise<TestDb> {
  const server = await startTestMongo();
  const dbName = server.dbName;
  const db = await openDatabase(server.uri, { dbName });
  const others: Db[] = [];
  return {
    db,
    uri: server.uri,
    async another() {
      const other = await openDatabase(server.uri, { dbName, seed: false });
      others.push(other);
      return other;
    },
    async stop() {
      for (const other of others) await other.close();
      await db.close();
      await server.stop();
    },
  };
}
