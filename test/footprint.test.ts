import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Loads the modules `npm start` builds an instance from (the app, every channel factory and the
 * database opener) in a fresh process, and lists the packages that came with them.
 */
async function packagesLoadedAtStart(): Promise<string[]> {
  const script = `
    await import('./src/app.ts');
    await import('./src/channels/from-config.ts');
    await import('./src/db/open.ts');
    const { createRequire } = await import('node:module');
    const cache = createRequire(import.meta.url).cache;
    const names = Object.keys(cache).map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(f)?.[1]);
    process.stdout.write(JSON.stringify([...new Set(names.filter(Boolean))]));
  `;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: root },
  );
  const parsed: unknown = JSON.parse(stdout);
  if (!Array.isArray(parsed)) throw new Error(`unexpected output: ${stdout}`);
  return parsed.map(String);
}

describe('what an instance loads at start', () => {
  it('leaves out WhatsApp Web (puppeteer) and the embedded server, which run only when configured', async () => {
    const loaded = await packagesLoadedAtStart();
    // The app itself is there: the check would pass vacuously otherwise.
    expect(loaded).toEqual(expect.arrayContaining(['botbuilder-core', 'mongoose', 'telegraf']));
    expect(loaded).not.toContain('whatsapp-web.js');
    expect(loaded).not.toContain('puppeteer-core');
    expect(loaded).not.toContain('mingo');
  }, 60_000);
});
