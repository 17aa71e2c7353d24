/**
 * The queue's claim depends on findAndModify being atomic across connections: 20 clients claim
 * concurrently from 2,000 queued documents and every document must be claimed exactly once.
 * Runs against TEST_MONGODB_URI too.
 */
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestMongo, type TestMongo } from '../helpers/mongo.js';

const { MongoClient } = mongoose.mongo;
const QUEUED = 2_000;
const WORKERS = 20;

interface Job {
  _id: number;
  status: 'waiting' | 'claimed';
  priority: number;
  createdAt: Date;
  by?: number;
}

let server: TestMongo;
beforeAll(async () => {
  server = await startTestMongo();
});
afterAll(async () => {
  await server.stop();
});

describe('concurrent claims', () => {
  it(
    '20 connections claim 2,000 queued documents, each exactly once, highest priority then oldest first',
    { timeout: 120_000 },
    async () => {
      const setup = await new MongoClient(server.uri).connect();
      const jobs = setup.db().collection<Job>('jobs');
      await jobs.createIndex({ status: 1, priority: -1, createdAt: 1 });
      const t0 = Date.UTC(2025, 0, 1);
      await jobs.insertMany(
        Array.from({ length: QUEUED }, (_, i) => ({
          _id: i,
          status: 'waiting' as const,
          priority: (i * 7) % 5,
          createdAt: new Date(t0 + i * 1000),
        })),
      );

      const clients = await Promise.all(
        Array.from({ length: WORKERS }, () => new MongoClient(server.uri, { maxPoolSize: 1 }).connect()),
      );
      const claims = await Promise.all(
        clients.map(async (client, worker) => {
          const coll = client.db().collection<Job>('jobs');
          const mine: Job[] = [];
          for (;;) {
            const job = await coll.findOneAndUpdate(
              { status: 'waiting' },
              { $set: { status: 'claimed', by: worker } },
              { sort: { priority: -1, createdAt: 1 }, returnDocument: 'before' },
            );
            if (!job) return mine;
            mine.push(job);
          }
        }),
      );
      await Promise.all(clients.map((c) => c.close()));

      const all = claims.flat();
      expect(all).toHaveLength(QUEUED);
      expect(new Set(all.map((j) => j._id)).size).toBe(QUEUED);
      expect(all.every((j) => j.status === 'waiting')).toBe(true);
      expect(await jobs.countDocuments({ status: 'waiting' })).toBe(0);
      // Every worker's own claims come out in queue order, as each claim took the best left.
      for (const mine of claims) {
        for (let i = 1; i < mine.length; i++) {
          const [a, b] = [mine[i - 1], mine[i]];
          if (!a || !b) continue;
          const ordered =
            a.priority > b.priority || (a.priority === b.priority && a.createdAt <= b.createdAt);
          expect(ordered).toBe(true);
        }
      }
      // The stored claimant is the worker that received the document.
      const winner = new Map<number, number>();
      claims.forEach((mine, worker) => mine.forEach((j) => winner.set(j._id, worker)));
      const stored = await jobs.find({}, { projection: { by: 1 } }).toArray();
      expect(stored.filter((d) => winner.get(d._id) !== d.by)).toEqual([]);
      await setup.close();
    },
  );
});
