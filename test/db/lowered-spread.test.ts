import { spawnSync } from 'node:child_process';
import { runInThisContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lowerObjectSpread } from '../../src/db/lowered-spread.js';
import { withFields } from '../../src/objects.js';

const loaded = new Map<string, [(...a: unknown[]) => unknown, (...a: unknown[]) => unknown]>();

/**
 * Evaluates `body` (a function body returning a value) as the shipped code and as lowered. Each body
 * is loaded once: later calls run the same functions, whose call sites remember what they checked.
 */
function both(body: string, ...args: unknown[]): [unknown, unknown] {
  const source = `module.exports = function (a, b) { ${body} };`;
  let pair = loaded.get(source);
  if (!pair) {
    const lowered = lowerObjectSpread(source);
    if (lowered === undefined) throw new Error('nothing was lowered');
    const load = (code: string): ((...a: unknown[]) => unknown) => {
      const module = { exports: (): unknown => undefined };
      const wrapper: unknown = runInThisContext(`(function (module) {\n${code}\n})`);
      if (typeof wrapper === 'function') wrapper(module);
      return module.exports;
    };
    pair = [load(source), load(lowered)];
    loaded.set(source, pair);
  }
  return [pair[0](...args), pair[1](...args)];
}

/** Each property's descriptor, functions reduced to their kind: what a spread is to reproduce. */
function described(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(described);
  if (typeof value !== 'object' || value === null) return value;
  return {
    proto: Object.getPrototypeOf(value) === Object.prototype,
    props: Reflect.ownKeys(value).map((key) => {
      const d = Object.getOwnPropertyDescriptor(value, key);
      return [String(key), d && { ...d, get: typeof d.get, set: typeof d.set }];
    }),
  };
}

/** Whether two objects `program` makes with `globalThis.make()` share a hidden class (V8's own answer). */
function sharesHiddenClass(program: string): boolean {
  const run = spawnSync(
    process.execPath,
    [
      '--allow-natives-syntax',
      '-e',
      // A few calls first: V8 gives each object its own class once the spread's inline cache is warm.
      `${program}\nfor (let i = 0; i < 10; i++) globalThis.make();\nconsole.log(%HaveSameMap(globalThis.make(), globalThis.make()));`,
    ],
    { encoding: 'utf8' },
  );
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.trim() === 'true';
}

describe('mongoose and the driver load with their object spreads written out', () => {
  it('writes out a spread followed by more properties, and leaves code without one alone', () => {
    const lowered = lowerObjectSpread('const o = { ...options, session, extra: 1 };');
    expect(lowered).toBeDefined();
    expect(lowered).not.toMatch(/\{\s*\.\.\.options/);
    expect(lowerObjectSpread('const o = { a: 1 }; f(x, y);')).toBeUndefined();
    // Array spreads and rest parameters are not object spreads: kept as they are.
    expect(lowerObjectSpread('function f(...xs) { return [...xs, 1]; }')).toMatch(/\[\.\.\.xs, 1\]/);
  });

  it('gives objects built the same way one hidden class, where the shipped spread gives each its own', () => {
    const shipped = 'const base = { a: 1, b: 2 }; globalThis.make = () => ({ ...base, c: 3 });';
    const lowered = lowerObjectSpread(shipped);
    expect(lowered).toBeDefined();
    expect(sharesHiddenClass(lowered ?? '')).toBe(true);
    // Why the module exists; should a Node release fix its V8, this fails and the module can go.
    expect(sharesHiddenClass(shipped)).toBe(false);
  });

  it('builds the same objects as the spread, for any own properties, symbols and overrides', () => {
    const entries = fc.dictionary(
      fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'toString', '0', '1', 'g', 's', 'x')),
      fc.oneof(fc.integer(), fc.string(), fc.constant(undefined), fc.constant(null)),
    );
    fc.assert(
      fc.property(entries, entries, (a, b) => {
        const parsedA: unknown = JSON.parse(JSON.stringify(a)); // own `__proto__` keys, as JSON gives them
        const [shipped, lowered] = both('return { ...a, x: 1, ...b, y: a };', parsedA, b);
        expect(Reflect.ownKeys(lowered as object)).toEqual(Reflect.ownKeys(shipped as object));
        expect(Object.getPrototypeOf(lowered)).toBe(Object.prototype);
        expect(lowered).toEqual(shipped);
      }),
      { numRuns: 300 },
    );
    // Getters and setters written at the site, before and after spreads: copied as the spread copies them.
    fc.assert(
      fc.property(entries, entries, (a, b) => {
        const parsedB: unknown = JSON.parse(JSON.stringify(b));
        const body = `return [
          { get g() { return 1; }, ...a, x: 1 },
          { ...a, get g() { return 2; }, set s(v) {}, ...b },
          { ...a, ...b, ['__proto__']: 3 },
        ];`;
        const [shipped, lowered] = both(body, a, parsedB);
        expect(described(lowered)).toEqual(described(shipped));
      }),
      { numRuns: 200 },
    );
    const sym = Symbol('s');
    const withGetter = Object.defineProperty({ [sym]: 1 }, 'g', { enumerable: true, get: () => 'read' });
    const [shipped, lowered] = both('const { x, ...rest } = { ...a, x: 2 }; return [x, rest];', withGetter);
    expect(lowered).toEqual(shipped);
    expect(both('return { ...a, ...b, z: 0 };', null, undefined)).toEqual([{ z: 0 }, { z: 0 }]);
  });

  it("replaces esbuild's spread helpers with faster ones, except where a literal sets its prototype", () => {
    const lowered = lowerObjectSpread('const o = { ...a, x: 1 }; const p = { ...o };') ?? '';
    expect(lowered).toContain('__spreadProps(0, __spreadValues(1, {}, a), { x: 1 })');
    expect(lowered).toContain('__spreadValues(2, {}, o)');
    expect(lowered).toContain('Object.assign(a, b)');
    const withProto = lowerObjectSpread('const o = { __proto__: p, ...a };') ?? '';
    expect(withProto).toContain('__spreadValues({ __proto__: p }, a)');
    expect(
      both('const p = { set x(v) { this.seen = v; } }; return { __proto__: p, ...a }.seen;', { x: 1 }),
    ).toEqual([undefined, undefined]);
  });

  it('is in place before the app loads the driver: src/db/connection.ts imports it first', () => {
    // A fresh process, as the app starts: whatever loads mongoose goes through connection.ts.
    const probe = `import('./src/db/connection.ts').then(() => {
      const { Connection } = require('mongodb/lib/cmap/connection.js');
      console.log(/\\{\\s*\\.\\.\\.command\\s*\\}/.test(String(Connection.prototype.prepareCommand)) ? 'shipped' : 'lowered');
    });`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', probe], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('lowered');
  });
});

describe('withFields', () => {
  it('builds what the spread builds, later fields winning', () => {
    const doc = { _id: 1, status: 'queued', text: 'hello' };
    const claimed = withFields(doc, { status: 'sending', lease: { owner: 'me' } });
    expect(claimed).toEqual({ ...doc, status: 'sending', lease: { owner: 'me' } });
    expect(Object.keys(claimed)).toEqual(['_id', 'status', 'text', 'lease']);
    expect(doc.status).toBe('queued');
  });
});
