import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdmin } from '../../src/console/auth.js';
import { runOfficials } from '../../src/console/officials.js';
import { hashPassword, verifyPassword } from '../../src/console/password.js';
import { openDatabase, type Db } from '../../src/db/connection.js';
import { startTestMongo } from '../helpers/mongo.js';

let db: Db;
let stopMongo: () => Promise<void>;

beforeAll(async () => {
  const mongo = await startTestMongo();
  stopMongo = () => mongo.stop();
  db = await openDatabase(mongo.uri);
});
afterAll(async () => {
  await db?.close();
  await stopMongo?.();
});

async function run(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await runOfficials(db, argv, (line) => lines.push(line));
  return { code, out: lines.join('\n') };
}

describe('passwords', () => {
  it('hashes with scrypt and a per-user salt, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery staple');
    const b = await hashPassword('correct horse battery staple');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(a).not.toBe(b); // different salts
    expect(a).not.toContain('correct horse');
    expect(await verifyPassword('correct horse battery staple', a)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', a)).toBe(false);
    expect(await verifyPassword('anything', 'plain-text-password')).toBe(false);
  });
});

describe('npm run officials', () => {
  it('adds an official with a generated password printed once, and lists them', async () => {
    const added = await run(
      'add',
      '--email',
      'Ana@City.gov',
      '--name',
      'Ana',
      '--role',
      'supervisor',
      '--departments',
      'public_works,utilities',
      '--lang',
      'es',
    );
    expect(added.code).toBe(0);
    const password = /Password \(shown once\): (\S+)/.exec(added.out)?.[1] ?? '';
    const stored = await db.Official.findOne({ email: 'ana@city.gov' }).lean();
    expect(stored).toMatchObject({
      role: 'supervisor',
      departments: ['public_works', 'utilities'],
      uiLang: 'es',
    });
    expect(await verifyPassword(password, stored?.passwordHash ?? '')).toBe(true);
    const listed = await run('list');
    expect(listed.out).toContain('ana@city.gov  supervisor  [public_works,utilities]  es  active');
  });

  it('refuses unknown departments, duplicates and unknown commands with usage', async () => {
    expect((await run('add', '--email', 'x@city.gov', '--name', 'X', '--departments', 'nowhere')).code).toBe(
      2,
    );
    expect((await run('add', '--email', 'ana@city.gov', '--name', 'Again')).out).toContain('already exists');
    const unknown = await run('promote');
    expect(unknown.code).toBe(2);
    expect(unknown.out).toContain('Usage: npm run officials');
  });

  it('disables, enables and resets a password (unlocking the account)', async () => {
    await db.Official.updateOne(
      { email: 'ana@city.gov' },
      { $set: { lockedUntil: new Date(Date.now() + 600_000), failedLogins: 3 } },
    );
    expect((await run('disable', '--email', 'ana@city.gov')).code).toBe(0);
    expect((await db.Official.findOne({ email: 'ana@city.gov' }).lean())?.active).toBe(false);
    expect((await run('enable', '--email', 'ana@city.gov')).code).toBe(0);
    const reset = await run(
      'reset-password',
      '--email',
      'ana@city.gov',
      '--password',
      'a-brand-new-passphrase',
    );
    expect(reset.code).toBe(0);
    expect(reset.out).not.toContain('shown once');
    const after = await db.Official.findOne({ email: 'ana@city.gov' }).lean();
    expect(after).toMatchObject({ active: true, failedLogins: 0 });
    expect(after?.lockedUntil).toBeUndefined();
    expect(await verifyPassword('a-brand-new-passphrase', after?.passwordHash ?? '')).toBe(true);
  });

  it('creates the first admin from the given credentials once', async () => {
    const result = await ensureAdmin(db, { email: 'Root@City.gov', password: 'configured-admin-pass' });
    expect(result).toEqual({ created: true, email: 'root@city.gov' });
    const admin = await db.Official.findOne({ email: 'root@city.gov' }).lean();
    expect(admin?.role).toBe('admin');
    expect(await verifyPassword('configured-admin-pass', admin?.passwordHash ?? '')).toBe(true);
    expect(await ensureAdmin(db, { email: 'root@city.gov', password: 'another-password' })).toEqual({
      created: false,
    });
  });
});
