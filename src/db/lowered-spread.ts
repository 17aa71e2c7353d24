/**
 * The MongoDB driver and mongoose build most of what a command carries with object spreads followed
 * by more properties: `{ ...this.options, ...this.bsonOptions, timeoutContext }` for the options,
 * `{ ...command }` and then `$db`, `lsid` and `$clusterTime` for the command itself. Node 20's V8
 * (11.3) gives every object made that way a hidden class of its own, allocated in the old
 * generation, which only a full collection frees (see `withFields` in src/objects.ts). At the
 * app's ~2,500 commands a second that was a quarter of what the main thread promoted into the old
 * generation; in a driver-only load (pings at 2,500/s) it was all of it (BENCHMARKS.md, Load).
 *
 * Importing this module (before anything loads mongoose or the driver) makes their files (and zod
 * 3's, see {@link LOWERED}) load with those spreads written out by esbuild (`supported:
 * { 'object-rest-spread': false }`, as esbuild writes them for engines without object spread): the
 * same own enumerable properties, defined one by one, so the objects share hidden classes again.
 * Nothing else of the code changes, but it is printed anew: line numbers in the driver's stack
 * traces are esbuild's, not the shipped files'. A file esbuild cannot transform loads as shipped,
 * with a warning.
 *
 * The transformed files are cached under `node_modules/.cache/civic-lowered-spread/` by a hash of
 * what was shipped: loading mongoose and the driver takes about 1.05 s the first time, then
 * 0.52–0.55 s (0.50 s as shipped).
 *
 * @example
 * // the first import of an entry point (src/main.ts) and of src/db/connection.ts:
 * import './db/lowered-spread.js';
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { transformSync, version as esbuildVersion } from 'esbuild';
import { rewriteOnLoad } from '../module-rewrite.js';

/**
 * The files rewritten: mongoose's and the driver's (every command passes through them), and zod 3's
 * as botbuilder loads it: botbuilder-dialogs parses its settings, which the app does not give it,
 * for every dialog context, and each failed parse builds its issues with spreads.
 */
const LOWERED = /[\\/]node_modules[\\/](mongodb[\\/]lib|mongoose[\\/]lib|zod[\\/]v3)[\\/].*\.c?js$/;

/** `source` with its object spreads and rests written out; undefined when it has no `...` at all. */
export function lowerObjectSpread(source: string, filename = 'module.js'): string | undefined {
  if (!source.includes('...')) return undefined;
  const { code } = transformSync(source, {
    loader: 'js',
    sourcefile: filename,
    target: `node${process.versions.node}`,
    supported: { 'object-rest-spread': false },
  });
  return code;
}

/** What else decides the output: a new esbuild or Node may write it differently. */
const SALT = `esbuild ${esbuildVersion}, node ${process.versions.node}\n`;

function cached(source: string, filename: string): string {
  const modules = filename.slice(0, filename.search(LOWERED) + '/node_modules'.length);
  const dir = join(modules, '.cache', 'civic-lowered-spread');
  const hash = createHash('sha256').update(SALT).update(source).digest('hex').slice(0, 32);
  const file = join(dir, `${hash}.js`);
  try {
    return readFileSync(file, 'utf8');
  } catch {
    // Not cached yet (or unreadable): transform, and keep it for the next start if the folder allows.
  }
  const lowered = lowerObjectSpread(source, filename) ?? source;
  try {
    mkdirSync(dir, { recursive: true });
    // Written aside, then renamed into place: another process starting at the same moment (a test
    // worker, a second instance) reads either no file or a whole one.
    const aside = `${file}.${process.pid}.${threadId}.tmp`;
    writeFileSync(aside, lowered);
    renameSync(aside, file);
  } catch {
    // A read-only install still works, transforming at every start.
  }
  return lowered;
}

rewriteOnLoad('CIVIC_LOWERED_SPREAD', 'its object spreads could not be written out', (content, filename) =>
  LOWERED.test(filename) && content.includes('...') ? cached(content, filename) : undefined,
);
