import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { Db } from '../db/connection.js';
import { OFFICIAL_ROLES, type OfficialRecord } from '../db/models/index.js';
import { LANGS } from '../nlu/catalog.js';
import { generatePassword, hashPassword } from './password.js';
import { sessionModel } from './session.js';

/** Usage of `npm run officials -- …` (operator-facing, like `--help` of any CLI). */
export const OFFICIALS_USAGE = `Usage: npm run officials -- <command> [options]
  add --email E --name N [--role agent|supervisor|admin] [--departments a,b] [--lang en] [--password P]
  list
  disable --email E
  enable --email E
  reset-password --email E [--password P]
Without --password, a password is generated and printed once.`;

const addSchema = z.object({
  email: z.email(),
  name: z.string().trim().min(1),
  role: z.enum(OFFICIAL_ROLES).default('agent'),
  departments: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((d) => d.trim())
        .filter((d) => d !== ''),
    )
    .pipe(z.array(z.string().regex(/^[a-z][a-z0-9_]*$/))),
  lang: z.enum(LANGS).default('en'),
  password: z.string().min(10).optional(),
});

const emailSchema = z.object({ email: z.email(), password: z.string().min(10).optional() });

/**
 * Runs one officials command against `db`, writing what an operator reads to `out`; returns the
 * process exit code. Separate from the CLI entry point so tests run it against a test database.
 *
 * @example
 * await runOfficials(db, ['add', '--email', 'ana@city.gov', '--name', 'Ana', '--departments', 'public_works'], write);
 */
export async function runOfficials(db: Db, argv: string[], out: (line: string) => void): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      departments: { type: 'string' },
      lang: { type: 'string' },
      password: { type: 'string' },
    },
  });
  const command = positionals[0];
  const fail = (message: string): number => {
    out(message);
    out(OFFICIALS_USAGE);
    return 2;
  };
  const sessions = await sessionModel(db.connection);
  switch (command) {
    case 'add': {
      const parsed = addSchema.safeParse(values);
      if (!parsed.success) return fail(z.prettifyError(parsed.error));
      const { email, name, role, departments, lang, password } = parsed.data;
      const known = new Set((await db.Department.find().select({ key: 1 }).lean()).map((d) => d.key));
      const unknown = departments.filter((d) => !known.has(d));
      if (unknown.length > 0) return fail(`Unknown department(s): ${unknown.join(', ')}`);
      if ((await db.Official.exists({ email: email.toLowerCase() })) !== null) {
        return fail(`An official with email ${email} already exists.`);
      }
      const chosen = password ?? generatePassword();
      await db.Official.create({
        email,
        name,
        role,
        departments,
        uiLang: lang,
        passwordHash: await hashPassword(chosen),
      });
      out(`Added ${role} ${email.toLowerCase()} (${departments.join(', ') || 'no department'}).`);
      if (password === undefined) out(`Password (shown once): ${chosen}`);
      return 0;
    }
    case 'list': {
      const all = await db.Official.find().sort({ email: 1 }).lean<OfficialRecord[]>();
      for (const o of all) {
        const flags = [
          o.active ? 'active' : 'disabled',
          o.lockedUntil && o.lockedUntil > new Date() ? 'locked' : '',
        ]
          .filter(Boolean)
          .join(',');
        out(
          `${o._id.toHexString()}  ${o.email}  ${o.role}  [${o.departments.join(',')}]  ${o.uiLang}  ${flags}`,
        );
      }
      if (all.length === 0) out('No officials yet.');
      return 0;
    }
    case 'disable':
    case 'enable': {
      const parsed = emailSchema.safeParse(values);
      if (!parsed.success) return fail(z.prettifyError(parsed.error));
      const email = parsed.data.email.toLowerCase();
      const updated = await db.Official.findOneAndUpdate(
        { email },
        { $set: { active: command === 'enable' } },
      ).lean<OfficialRecord>();
      if (updated === null) return fail(`No official has email ${email}.`);
      if (command === 'disable') await sessions.deleteMany({ officialId: updated._id });
      out(`${command === 'disable' ? 'Disabled' : 'Enabled'} ${email}.`);
      return 0;
    }
    case 'reset-password': {
      const parsed = emailSchema.safeParse(values);
      if (!parsed.success) return fail(z.prettifyError(parsed.error));
      const email = parsed.data.email.toLowerCase();
      const chosen = parsed.data.password ?? generatePassword();
      const updated = await db.Official.findOneAndUpdate(
        { email },
        { $set: { passwordHash: await hashPassword(chosen), failedLogins: 0 }, $unset: { lockedUntil: 1 } },
      ).lean<OfficialRecord>();
      if (updated === null) return fail(`No official has email ${email}.`);
      // Whoever knew the old password may hold a session: end them all.
      await sessions.deleteMany({ officialId: updated._id });
      out(`Password reset for ${email}; the account is unlocked and its sessions ended.`);
      if (parsed.data.password === undefined) out(`Password (shown once): ${chosen}`);
      return 0;
    }
    default:
      return fail(command === undefined ? 'No command given.' : `Unknown command: ${command}`);
  }
}
