import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestMongo, type TestMongo } from '../helpers/mongo.js';

describe('test helper', () => {
  let db: TestMongo;
  beforeAll(async () => {
    db = await startTestMongo();
  });
  afterAll(async () => {
    await db.stop();
  });

  it('gives a URI that mongoose and the raw driver can use', async () => {
    const conn = await mongoose.createConnection(db.uri).asPromise();
    const Thing = conn.model('Thing', new mongoose.Schema({ name: { type: String, unique: true } }));
    await Thing.init();
    await Thing.create({ name: 'a' });
    await expect(Thing.create({ name: 'a' })).rejects.toMatchObject({ code: 11000 });
    expect(conn.db?.databaseName).toBe(db.dbName);
    await conn.close();
    const client = await new mongoose.mongo.MongoClient(db.uri).connect();
    expect(await client.db().collection('things').countDocuments()).toBe(1);
    await client.close();
  });
});
