import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startFlags } from '../../scripts/bench-load.js';

describe("the load bench runs the bot with npm start's Node flags", () => {
  it('reads the flags between tsx and the entry, not the entry or its arguments', () => {
    expect(startFlags('tsx --max-semi-space-size=64 src/main.ts')).toEqual(['--max-semi-space-size=64']);
    expect(startFlags('tsx --a=1 --b src/main.ts --not-node')).toEqual(['--a=1', '--b']);
    expect(startFlags('tsx src/main.ts')).toEqual([]);
    expect(() => startFlags('node src/main.js')).toThrow(/tsx/);
  });

  it('gives Node flags it accepts (a mistyped one would stop npm start)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      scripts: { start: string };
    };
    const flags = startFlags(pkg.scripts.start);
    expect(flags.length).toBeGreaterThan(0);
    const run = spawnSync(process.execPath, [...flags, '-e', ''], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const typo = spawnSync(process.execPath, ['--max-semi-space-sise=64', '-e', ''], { encoding: 'utf8' });
    expect(typo.status).not.toBe(0);
  });
});
