/**
 * Benchmark of the embedded MongoDB-compatible server: inserts/s, claims/s (the case queue's
 * findOneAndUpdate) and p99 latency, in memory and with the durable journal.
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

interface Figures {
  insertsPerSec: number;
  insertP99: number;
  claimsPerSec: number;
  claimP99: number;
}

function p99(samples: number[]): number {
  const sorted = samples.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
}

async function measure(dir: string | undefined): Promise<Figures> {
  const server = await startEmbeddedMongo({ ...(dir ? { dir } : {}), logger: () => undefined });
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
    await jobs.insertMany(
      Array.from({ length: QUEUED }, (_, i) => ({
        status: 'waiting',
        priority: i % 5,
        createdAt: new Date(Date.UTC(2025, 0, 1) + i),
      })),
    );
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
    };
  } finally {
    await server.close();
  }
}

/** Runs the benchmark and returns its Markdown section (date, machine, one row per mode). */
export async function benchDb(): Promise<string> {
  const memory = await measure(undefined);
  const dir = mkdtempSync(join(tmpdir(), 'bench-db-'));
  let durable: Figures;
  try {
    durable = await measure(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const cpu = cpus();
  const row = (mode: string, f: Figures): string =>
    `| ${mode} | ${f.insertsPerSec.toFixed(0)} | ${f.insertP99.toFixed(2)} | ${f.claimsPerSec.toFixed(0)} | ${f.claimP99.toFixed(2)} |`;
  return [
    '## Embedded MongoDB-compatible server',
    '',
    `Measured ${new Date().toISOString()} on ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; client and server in one process.`,
    `Inserts: ${INSERT_WRITERS} concurrent writers × ${INSERTS_PER_WRITER} insertOne. Claims: ${CLAIMERS} connections draining ${QUEUED} queued documents with findOneAndUpdate (sort priority, createdAt).`,
    '',
    '| mode | inserts/s | insert p99 ms | claims/s | claim p99 ms |',
    '| --- | ---: | ---: | ---: | ---: |',
    row('in memory', memory),
    row('durable (journal, fsync before reply)', durable),
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(await benchDb());
}
