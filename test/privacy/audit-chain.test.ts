import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeEach, beforeAll, describe, expect, it } from 'vitest';
import { chainedAuditWriter } from '../../src/console/audit.js';
import { openDatabase, type Db } from '../../src/db/connection.js';
import { openConfiguredDatabase } from '../../src/db/open.js';
import { auditHash, verifyAuditChain, AUDIT_GENESIS } from '../../src/privacy/audit-chain.js';
import { startTestMongo, type TestMongo } from '../helpers/mongo.js';

let mongo: TestMongo;
let db: Db;

beforeAll(async () => {
  mongo = await startTestMongo();
  db = await openDatabase(mongo.uri);
});
afterAll(async () => {
  await db?.close();
  await mongo?.stop();
});

/** The raw collection: what someone with direct database access would edit (the model refuses to). */
const raw = () => db.AuditEvent.collection;

async function writeHistory(n: number): Promise<void> {
  const audit = chainedAuditWriter(db);
  for (let i = 0; i < n; i++) {
    await audit({
      actor: { kind: 'official', id: `0000000000000000000000${String(i).padStart(2, '0')}` },
      action: i % 2 === 0 ? 'claimed' : 'answered',
      caseReference: 'C-7K4P9Q',
      details: { department: 'public_works', i },
    });
  }
}

describe('verifyAuditChain', () => {
  beforeEach(async () => {
    await raw().deleteMany({});
    await writeHistory(5);
  });

  it('verifies a clean chain written by the console’s audit writer', async () => {
    const result = await verifyAuditChain(db);
    expect(result).toMatchObject({ ok: true, entries: 5, lastSeq: 5 });
    const first = await db.AuditEvent.findOne({ seq: 1 }).lean();
    expect(first?.prevHash).toBe(AUDIT_GENESIS);
    if (first) expect(auditHash(first)).toBe(first.hash);
  });

  it('verifies an empty log', async () => {
    await raw().deleteMany({});
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, entries: 0 });
  });

  it('detects an edited record, naming its seq', async () => {
    await raw().updateOne({ seq: 3 }, { $set: { action: 'resolved' } });
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: 3, reason: 'hash_mismatch' });
  });

  it('detects an edited record whose hash was recomputed, at the next seq', async () => {
    const third = await db.AuditEvent.findOne({ seq: 3 }).lean();
    if (!third) throw new Error('no seq 3');
    const forged = { ...third, details: { department: 'integrity' } };
    await raw().updateOne({ seq: 3 }, { $set: { details: forged.details, hash: auditHash(forged) } });
    expect(await verifyAuditChain(db)).toMatchObject({
      ok: false,
      brokenAt: 4,
      reason: 'prev_hash_mismatch',
    });
  });

  it('detects a deleted record', async () => {
    await raw().deleteOne({ seq: 2 });
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: 2, reason: 'seq_gap' });
  });

  it('detects a deleted record when the later ones were renumbered to hide the gap', async () => {
    // Delete seq 2 and shift 3..5 down, so seq has no gap: the successor's prevHash gives it away.
    await raw().deleteOne({ seq: 2 });
    for (const seq of [3, 4, 5]) await raw().updateOne({ seq }, { $set: { seq: seq - 1 } });
    expect(await verifyAuditChain(db)).toMatchObject({
      ok: false,
      brokenAt: 2,
      reason: 'prev_hash_mismatch',
    });
  });

  it('detects an inserted record, even one with a well-formed hash', async () => {
    for (const seq of [5, 4, 3, 2]) await raw().updateOne({ seq }, { $set: { seq: seq + 1 } });
    const first = await db.AuditEvent.findOne({ seq: 1 }).lean();
    if (!first) throw new Error('no seq 1');
    const inserted = {
      seq: 2,
      actor: { kind: 'official' as const, id: 'ffffffffffffffffffffffff' },
      action: 'erased',
      at: new Date(),
      details: {},
      prevHash: first.hash,
    };
    await raw().insertOne({ ...inserted, hash: auditHash(inserted) });
    // The forged entry chains to seq 1, but the original second entry (now seq 3) does not chain to it.
    expect(await verifyAuditChain(db)).toMatchObject({
      ok: false,
      brokenAt: 3,
      reason: 'prev_hash_mismatch',
    });
  });

  it('detects a record appended with a made-up prevHash', async () => {
    const appended = {
      seq: 6,
      actor: { kind: 'system' as const },
      action: 'viewed',
      at: new Date(),
      details: {},
      prevHash: AUDIT_GENESIS,
    };
    await raw().insertOne({ ...appended, hash: auditHash(appended) });
    expect(await verifyAuditChain(db)).toMatchObject({
      ok: false,
      brokenAt: 6,
      reason: 'prev_hash_mismatch',
    });
  });
});

describe('npm run audit:verify (scripts/audit-verify.ts)', () => {
  const run = promisify(execFile);
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'audit-verify-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function verify(): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts'], {
        env: { ...process.env, DATA_DIR: dir, MONGODB_URI: '' },
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('exits 0 on an intact chain in DATA_DIR and 1 naming the first broken seq after tampering', async () => {
    const opened = await openConfiguredDatabase(
      { mongodbUri: undefined, dataDir: dir },
      pino({ level: 'silent' }),
    );
    const audit = chainedAuditWriter(opened.db);
    for (const action of ['claimed', 'answered', 'resolved'])
      await audit({ actor: { kind: 'system' }, action });
    await opened.close();

    const clean = await verify();
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain('3 entries');

    const again = await openConfiguredDatabase(
      { mongodbUri: undefined, dataDir: dir },
      pino({ level: 'silent' }),
    );
    await again.db.AuditEvent.collection.updateOne({ seq: 2 }, { $set: { action: 'viewed' } });
    await again.close();

    const broken = await verify();
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('seq 2');
  });
});
