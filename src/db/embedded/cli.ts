/**
 * Standalone embedded server, so that several app processes, mongosh or Compass can share one:
 *
 *   npm run db -- --dir ./data --port 27017
 *
 * Prints the mongodb:// URI as the first line on stdout, then serves until SIGINT or SIGTERM.
 * `--memory` keeps everything in memory; otherwise the data folder is --dir, $DATA_DIR or ./data.
 */
import { parseArgs } from 'node:util';
import { startEmbeddedMongo } from './index.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    port: { type: 'string', default: '27017' },
    host: { type: 'string', default: '127.0.0.1' },
    memory: { type: 'boolean', default: false },
    'ttl-interval-ms': { type: 'string' },
  },
  strict: true,
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`--port must be an integer between 0 and 65535, got ${values.port}\n`);
  process.exit(2);
}
const dir = values.memory ? undefined : (values.dir ?? process.env['DATA_DIR'] ?? './data');
const ttl = values['ttl-interval-ms'] === undefined ? undefined : Number(values['ttl-interval-ms']);

const server = await startEmbeddedMongo({
  port,
  host: values.host,
  ...(dir === undefined ? {} : { dir }),
  ...(ttl === undefined ? {} : { ttlIntervalMs: ttl }),
  logger: (msg) => process.stderr.write(`[embedded-mongo] ${msg}\n`),
});
process.stdout.write(`${server.uri}\n`);
process.stderr.write(
  `[embedded-mongo] serving ${dir === undefined ? 'in memory' : `data folder ${dir}`}; Ctrl-C stops\n`,
);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`[embedded-mongo] ${signal}: flushing and stopping\n`);
  server.close().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(
        `[embedded-mongo] close failed: ${err instanceof Error ? err.message : String(err)}\n`,
      );
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
