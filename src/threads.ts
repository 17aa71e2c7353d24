import { Worker } from 'node:worker_threads';

/**
 * The worker entry `name` beside the calling module (`import.meta.url`), with the caller's own
 * extension: `name.ts` when running from source (tsx, vitest), `name.js` once compiled.
 */
export function workerEntry(callerUrl: string, name: string): URL {
  const ext = /\.([cm]?[jt]s)$/.exec(callerUrl)?.[1] ?? 'js';
  return new URL(`./${name}.${ext}`, callerUrl);
}

/**
 * The Worker to run `entry` in. Compiled JS loads as is. From source, Node 20 does not apply the
 * parent's `--import tsx` (nor vitest's own transform) to a worker's entry, so a small eval'd
 * bootstrap registers tsx's ESM hooks inside the worker first, then imports the `.ts` entry.
 */
export function spawnWorker(entry: URL, opts: { workerData: unknown; name: string }): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, opts);
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { ...opts, eval: true });
}
