// `npm run officials -- add|list|disable|enable|reset-password …`: manages console accounts.
// With the embedded database, run it while the server is stopped (the data directory has one owner).
import { loadConfig } from '../config.js';
import { openConfiguredDatabase } from '../db/open.js';
import { createLogger } from '../log.js';
import { runOfficials } from './officials.js';

const config = loadConfig();
const log = createLogger('warn');
const database = await openConfiguredDatabase(
  { mongodbUri: config.MONGODB_URI, dataDir: config.DATA_DIR },
  log,
);
let code = 1;
try {
  code = await runOfficials(database.db, process.argv.slice(2), (line) => process.stdout.write(`${line}\n`));
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
} finally {
  await database.close();
}
process.exit(code);
