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
 * same own enumerable properties, defined one by one (by `Object.assign` where that does the same:
 * {@link withFasterHelpers}), so the objects share hidden classes again.
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
  return withFasterHelpers(code);
}

/** esbuild's `__spreadValues` as it writes it (0.28), with its parameters named `a` and `b`. */
const STOCK_SPREAD_VALUES = `var __spreadValues = (a, b) => {
  for (var prop in b ||= {})
    if (__hasOwnProp.call(b, prop))
      __defNormalProp(a, prop, b[prop]);
  if (__getOwnPropSymbols)
    for (var prop of __getOwnPropSymbols(b)) {
      if (__propIsEnum.call(b, prop))
        __defNormalProp(a, prop, b[prop]);
    }
  return a;
};
`;

/**
 * The replacements. Each call site gets a number (its first argument): the first time a site runs,
 * it checks that the object being built (`a`) has only writable data properties and a plain
 * prototype, and for `__spreadProps` that the literal it adds (`b`) has no getters or setters.
 * What these hold is written in the code at the site (`{ get x() {}, ...b }`), so the answer stands
 * for every later call there. Where it holds, `Object.assign` does what the spread does, as long as
 * `b` has no own `__proto__` key (assigning one would set the prototype), which is checked each time;
 * elsewhere the stock helpers run. Seven times faster than the stock helpers, which define each
 * property through `in`, `Object.defineProperty` and `Object.getOwnPropertyDescriptors`: under load
 * their own time was 9 % of the main thread's profile samples, and with these the main thread used
 * 3 % less CPU (BENCHMARKS.md, Load).
 */
const FAST_HELPERS = `var __spreadSites = [];
var __plainTarget = (a) => {
  var proto = Object.getPrototypeOf(a);
  if (proto !== Object.prototype && proto !== null) return false;
  for (var key of Reflect.ownKeys(a)) {
    var d = Object.getOwnPropertyDescriptor(a, key);
    if (!("value" in d) || !d.writable) return false;
  }
  return true;
};
var __dataOnly = (b) => Reflect.ownKeys(b).every((key) => "value" in Object.getOwnPropertyDescriptor(b, key));
var __stockSpreadValues = ${STOCK_SPREAD_VALUES.replace('var __spreadValues = ', '').trimEnd()}
var __spreadValues = (site, a, b) => b == null ? a : (__spreadSites[site] ??= __plainTarget(a)) && !__hasOwnProp.call(b, "__proto__") ? Object.assign(a, b) : __stockSpreadValues(a, b);
var __spreadProps = (site, a, b) => (__spreadSites[site] ??= __plainTarget(a) && __dataOnly(b)) && !__hasOwnProp.call(b, "__proto__") ? Object.assign(a, b) : __defProps(a, __getOwnPropDescs(b));
`;

/** esbuild's definitions of the two helpers, whatever it named their parameters. */
const SPREAD_VALUES_DEF = /^var __spreadValues = \((\w+), (\w+)\) => \{\n[^]*?\n\};\n/m;
const SPREAD_PROPS_DEF =
  /^var __spreadProps = \((\w+), (\w+)\) => __defProps\(\1, __getOwnPropDescs\(\2\)\);\n/m;
const OURS = /__spreadSites|__plainTarget|__dataOnly|__stockSpreadValues/;

/**
 * `code` (esbuild's output) with the spread helpers replaced by {@link FAST_HELPERS}, and each call
 * numbered. Left as esbuild wrote it when its helpers are not the ones expected (another esbuild
 * version), or when a literal sets its prototype (`{ __proto__: p, ...b }`: `p` may have setters).
 */
function withFasterHelpers(code: string): string {
  const values = SPREAD_VALUES_DEF.exec(code);
  if (!values || OURS.test(code) || /\b__proto__\s*:/.test(code)) return code;
  const [definition, a = '', b = ''] = values;
  const named = (name: string): RegExp => new RegExp(`\\b${name}\\b`, 'g');
  if (definition.replace(named(a), 'a').replace(named(b), 'b') !== STOCK_SPREAD_VALUES) return code;
  let numbered = code.replace(definition, '');
  const props = SPREAD_PROPS_DEF.exec(numbered);
  if (props) numbered = numbered.replace(props[0], '');
  else if (numbered.includes('__spreadProps(')) return code;
  let site = 0;
  numbered = numbered.replace(/\b(__spreadValues|__spreadProps)\(/g, (call) => `${call}${site++}, `);
  const at = numbered.indexOf('var __defNormalProp');
  return at < 0 ? code : `${numbered.slice(0, at)}${FAST_HELPERS}${numbered.slice(at)}`;
}

/** What else decides the output: a new esbuild or Node may write it differently, or new helpers. */
const SALT = `esbuild ${esbuildVersion}, node ${process.versions.node}, helpers ${createHash('sha256').update(FAST_HELPERS).digest('hex').slice(0, 12)}\n`;

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
