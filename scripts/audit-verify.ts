// `npm run audit:verify`: checks the hash chain of the officials' audit log, on MONGODB_URI or the
// embedded database in DATA_DIR (stop the server first: the embedded journal has one writer).
// Exit code 0 when the chain is intact, 1 when it is broken (naming the first broken seq), 2 when
// the check could not run.
import pino from 'pino';
import { z } from 'zod';
import { openConfiguredDatabase } from '../src/db/open.js';
import { verifyAuditChain } from '../src/privacy/audit-chain.js';

const env = z
  .object({
    MONGODB_URI: z
      .string()
      .trim()
      .transform((v) => (v === '' ? undefined : v))
      .optional(),
    DATA_DIR: z.string().default('./data'),
  })
  .parse(process.env);

try {
  const database = await openConfiguredDatabase(
    { mongodbUri: env.MONGODB_URI, dataDir: env.DATA_DIR },
    pino({ level: 'warn' }),
  );
  try {
    const result = await verifyAuditChain(database.db);
    if (result.ok) {
      process.stdout.write(
        `audit chain intact: ${result.entries} entries, last seq ${result.lastSeq}, head ${result.lastHash}\n`,
      );
      process.exitCode = 0;
    } else {
      process.stderr.write(`audit chain BROKEN at seq ${result.brokenAt} (${result.reason})\n`);
      process.exitCode = 1;
    }
  } finally {
    await database.close();
  }
} catch (err) {
  process.stderr.write(`audit:verify could not run: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
}
