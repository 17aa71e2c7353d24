/**
 * Benchmark of the embedded MongoDB-compatible server: inserts/s, claims/s (the case queue's
 * findOneAndUpdate), lookups/s by a unique key among 10,000 documents, and p99 latency, in memory
 * and with the durable journal, each with index lookups on and off (off = the full scans every
 * query made before the lookup maps).
 *
 *   npx tsx scripts/bench-db.ts        prints the Markdown section
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import mongoose from 'mongoose';
import { startEmbeddedMongo } from '../src/db/embedded/index.js';

const { MongoClient } = mongoose.mongo;
const INSERT_WRITERS = 10;
const INSERTS_PER_WRITER = 300;
const QUEUED = 2_000;
const CLAIMERS = 20;
const LOOKUP_DOCS = 10_000;
const LOOKUPS = 2_000;

interface Figures {
  insertsPerSec: number;
  insertP99: number;
  claimsPerSec: number;
  claimP99: number;
  lookupsPerSec: number;
  lookupP99: number;
}

function p99(samples: number[]): number {
  const sorted = samples.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
}

async function measure(dir: string | undefined, indexLookups: boolean): Promise<Figures> {
  const server = await startEmbeddedMongo({ ...(dir ? { dir } : {}), logger: () => undefined, indexLookups });
  try {
    const client = await new MongoClient(server.uri, { maxPoolSize: INSERT_WRITERS }).connect();
    const coll = client.db('bench').collection('inserts');
    const insertLatency: number[] = [];
    let t0 = performance.now();
    await Promise.all(
      Array.from({ length: INSERT_WRITERS }, async (_, w) => {
        for (let i = 0; i < INSERTS_PER_WRITER; i++) {
          const s = performance.now();
          await coll.insertOne({ w, i, body: 'x'.repeat(200), at: new Date() });
          insertLatency.push(performance.now() - s);
        }
      }),
    );
    const insertSecs = (performance.now() - t0) / 1000;

    const jobs = client.db('bench').collection('jobs');
    // As the case queue declares: the claim's equality field leads an index.
    await jobs.createIndex({ status: 1, priority: -1, createdAt: 1 });
    await jobs.insertMany(
      Array.from({ length: QUEUED }, (_, i) => ({
        status: 'waiting',
        priority: i % 5,
        createdAt: new Date(Date.UTC(2025, 0, 1) + i),
      })),
    );
    const keyed = client.db('bench').collection('keyed');
    await keyed.createIndex({ reference: 1 }, { unique: true });
    await keyed.insertMany(
      Array.from({ length: LOOKUP_DOCS }, (_, i) => ({ reference: `REF-${i}`, body: 'x'.repeat(200) })),
    );
    const lookupLatency: number[] = [];
    t0 = performance.now();
    for (let i = 0; i < LOOKUPS; i++) {
      const s = performance.now();
      const doc = await keyed.findOne({ reference: `REF-${(i * 7919) % LOOKUP_DOCS}` });
      if (!doc) throw new Error('lookup missed');
      lookupLatency.push(performance.now() - s);
    }
    const lookupSecs = (performance.now() - t0) / 1000;
    await client.close();
    const claimers = await Promise.all(
      Array.from({ length: CLAIMERS }, () => new MongoClient(server.uri, { maxPoolSize: 1 }).connect()),
    );
    const claimLatency: number[] = [];
    t0 = performance.now();
    await Promise.all(
      claimers.map(async (c, worker) => {
        const q = c.db('bench').collection('jobs');
        for (;;) {
          const s = performance.now();
          const doc = await q.findOneAndUpdate(
            { status: 'waiting' },
            { $set: { status: 'claimed', by: worker } },
            { sort: { priority: -1, createdAt: 1 } },
          );
          if (!doc) return;
          claimLatency.push(performance.now() - s);
        }
      }),
    );
    const claimSecs = (performance.now() - t0) / 1000;
    await Promise.all(claimers.map((c) => c.close()));
    return {
      insertsPerSec: insertLatency.length / insertSecs,
      insertP99: p99(insertLatency),
      claimsPerSec: claimLatency.length / claimSecs,
      claimP99: p99(claimLatency),
      lookupsPerSec: lookupLatency.length / lookupSecs,
      lookupP99: p99(lookupLatency),
    };
  } finally {
    await server.close();
  }
}

/** Runs the benchmark and returns its Markdown section (date, machine, one row per mode). */
export async function benchDb(): Promise<string> {
  const durableRun = async (indexLookups: boolean): Promise<Figures> => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-db-'));
    try {
      return await measure(dir, indexLookups);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const memoryScan = await measure(undefined, false);
  const memory = await measure(undefined, true);
  const durableScan = await durableRun(false);
  const durable = await durableRun(true);
  const cpu = cpus();
  const row = (mode: string, f: Figures): string =>
    `| ${mode} | ${f.insertsPerSec.toFixed(0)} | ${f.insertP99.toFixed(2)} | ${f.claimsPerSec.toFixed(0)} | ${f.claimP99.toFixed(2)} | ${f.lookupsPerSec.toFixed(0)} | ${f.lookupP99.toFixed(2)} |`;
  return [
    '## Embedded MongoDB-compatible server',
    '',
    `Measured ${new Date().toISOString()} on ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; client and server in one process.`,
    `Inserts: ${INSERT_WRITERS} concurrent writers × ${INSERTS_PER_WRITER} insertOne. Claims: ${CLAIMERS} connections draining ${QUEUED} queued documents with findOneAndUpdate ({ status } filter, index { status, priority, createdAt }, sort priority, createdAt). Lookups: ${LOOKUPS} sequential findOne by a unique \`reference\` among ${LOOKUP_DOCS} documents.`,
    '"scan" rows run with `indexLookups: false` (every query scans the collection, as before the index lookup maps); "indexed" rows are the default.',
    '',
    '| mode | inserts/s | insert p99 ms | claims/s | claim p99 ms | lookups/s | lookup p99 ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    row('in memory, scan', memoryScan),
    row('in memory, indexed', memory),
    row('durable (journal, fsync before reply), scan', durableScan),
    row('durable (journal, fsync before reply), indexed', durable),
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(await benchDb());
}
