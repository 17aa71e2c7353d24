import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixture, tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const CLI = join(ROOT, 'src/nlu/cli.ts');

function nlu(
  args: string[],
  input?: Buffer | string,
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(TSX, [CLI, ...args], {
    cwd: ROOT,
    input: typeof input === 'string' ? Buffer.from(input) : input,
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

let modelDir: string;

beforeAll(() => {
  modelDir = tempDir('cli-model');
  const r = nlu(['train', '--corpus', fixture('en'), '--corpus', fixture('fr'), '--out', modelDir]);
  expect(r.stderr).toContain('model written to');
  expect(r.code).toBe(0);
}, 180_000);

describe('nlu classify (the command-line contract)', () => {
  it('answers one JSON object per input line, in order', () => {
    const r = nlu(['classify', '--model', modelDir], 'how do i renew my passport\nbonjour\ntell me a joke\n');
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.text)).toEqual(['how do i renew my passport', 'bonjour', 'tell me a joke']);
    expect(lines.map((l) => l.intent)).toEqual(['service.passport', 'greet', 'None']);
    expect(lines.map((l) => l.lang)).toEqual(['en', 'fr', 'en']);
    for (const l of lines) {
      expect(Object.keys(l).sort()).toEqual(['intent', 'lang', 'score', 'text']);
      expect(typeof l.score).toBe('number');
    }
  });

  it('survives bad input: empty lines, a 10 kB line, invalid UTF-8, CRLF, no final newline', () => {
    const input = Buffer.concat([
      Buffer.from('hello there\r\n\n'),
      Buffer.from(`${'passport '.repeat(1200)}\n`),
      Buffer.from([0x68, 0x69, 0xff, 0xfe, 0x0a]),
      Buffer.from('my passport expired'),
    ]);
    const r = nlu(['classify', '--model', modelDir], input);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { text: string; intent: string });
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatchObject({ text: 'hello there', intent: 'greet' });
    expect(lines[1]).toMatchObject({ text: '', intent: 'None' });
    expect(lines[2]?.text.length).toBeGreaterThan(10_000);
    expect(lines[3]?.intent).toBe('None');
    expect(r.stderr).toMatch(/line 4: not valid UTF-8/);
    expect(lines[4]).toMatchObject({ text: 'my passport expired', intent: 'service.passport' });
  });

  it('explains a missing model or corpus and exits 2', () => {
    const noModel = nlu(['classify', '--model', join(modelDir, 'nope')], 'hi\n');
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toMatch(/no model here/);
    expect(noModel.stdout).toBe('');

    const noCorpus = nlu(['train', '--corpus', '/nonexistent/en.json', '--out', tempDir('x')]);
    expect(noCorpus.code).toBe(2);
    expect(noCorpus.stderr).toMatch(/\/nonexistent\/en\.json: file not found/);
  });

  it('rejects unknown commands and options with usage, exit 2', () => {
    const r = nlu(['clasify']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "clasify"[\s\S]*usage:/);
    expect(nlu(['classify', '--corpus', 'x']).code).toBe(2);
  });

  it('evaluates a corpus without tests by holding some utterances out', () => {
    const r = nlu(['eval', '--corpus', fixture('en')]);
    expect([0, 1]).toContain(r.code);
    expect(r.stdout).toMatch(/\| en \| \d+ \|/);
    expect(r.stdout).toMatch(/Worst confusions/);
  });
});
