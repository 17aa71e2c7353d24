import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { nativeAsync } from '../../src/engine/native-async.js';

/** What TypeScript emits for async functions when it targets ES2015, as botbuilder's files are. */
const HELPER = `var __awaiter = (this && this.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};`;

const MODULE = `"use strict";
${HELPER}
class Counter {
    constructor() { this.log = []; }
    run(x) {
        return __awaiter(this, void 0, void 0, function* () {
            this.log.push('start');
            const a = yield Promise.resolve(x + 1);
            this.log.push('got ' + a);
            const b = (yield a) * 2 + (yield 1);
            const inner = () => this.log.length;
            return { b, seen: inner(), nested: yield this.twice(b) };
        });
    }
    twice(v) {
        return __awaiter(this, void 0, void 0, function* () { return (yield v) * 2; });
    }
    fail() {
        return __awaiter(this, void 0, void 0, function* () {
            yield null;
            throw new Error('boom: ' + this.log.length);
        });
    }
    failNow() {
        return __awaiter(this, void 0, void 0, function* () { throw new Error('at once'); });
    }
}
const plusOne = (v) => __awaiter(void 0, void 0, void 0, function* () { return (yield v) + 1; });
module.exports = { Counter, plusOne };`;

interface Loaded {
  Counter: new () => {
    log: string[];
    run(x: number): Promise<{ b: number; seen: number; nested: number }>;
    fail(): Promise<never>;
    failNow(): Promise<never>;
  };
  plusOne(v: number): Promise<number>;
}

function load(source: string): Loaded {
  const module = { exports: {} };
  // The module's own code, evaluated as CommonJS evaluates it (module, exports, `this` = exports).
  const run = new Function('module', 'exports', source) as (m: unknown, e: unknown) => void;
  run.call(module.exports, module, module.exports);
  return module.exports as Loaded;
}

/** Runs the same calls on a loaded module and says what a caller would see. */
async function observe(mod: Loaded): Promise<unknown[]> {
  const counter = new mod.Counter();
  const pending = counter.run(1);
  const syncPart = [...counter.log]; // the body runs up to its first await before run() returns
  const result = await pending;
  const failure = await counter.fail().then(
    () => 'resolved',
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
  const immediate = await counter.failNow().then(
    () => 'resolved',
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
  return [syncPart, result, counter.log, failure, immediate, await mod.plusOne(41)];
}

describe('botbuilder loaded with native async functions', () => {
  it('turns TypeScript’s ES2015 async functions into native ones that behave the same', async () => {
    const rewritten = nativeAsync(MODULE);
    expect(rewritten).toBeDefined();
    expect(rewritten).not.toMatch(/function\*|yield|__awaiter\(this/);
    const before = await observe(load(MODULE));
    expect(before).toEqual([
      ['start'],
      { b: 5, seen: 2, nested: 10 },
      ['start', 'got 2'],
      'boom: 2',
      'at once',
      42,
    ]);
    expect(await observe(load(rewritten ?? ''))).toEqual(before);
  });

  it('leaves files without them alone, and refuses other generators (the file then loads as shipped)', () => {
    expect(nativeAsync('"use strict";\nmodule.exports = { a: 1 };')).toBeUndefined();
    const withGenerator = `${HELPER}\nfunction* ids() { yield 1; }\nconst f = () => __awaiter(void 0, void 0, void 0, function* () { return yield 2; });`;
    expect(() => nativeAsync(withGenerator)).toThrow(/outside an __awaiter generator/);
    const readsArguments = `${HELPER}\nfunction f() { return __awaiter(this, void 0, void 0, function* () { return arguments.length; }); }`;
    expect(() => nativeAsync(readsArguments)).toThrow(/arguments/);
  });

  it('is in effect for the botbuilder the engine runs on', () => {
    expect(Engine).toBeDefined(); // the engine, and so botbuilder, loaded through this module
    const require = createRequire(import.meta.url);
    const dialogs = require('botbuilder-dialogs') as {
      DialogContext: { prototype: { beginDialog: () => unknown } };
    };
    const core = require('botbuilder-core') as {
      BotStatePropertyAccessor: { prototype: { get: () => unknown } };
    };
    for (const method of [
      dialogs.DialogContext.prototype.beginDialog,
      core.BotStatePropertyAccessor.prototype.get,
    ]) {
      const source = String(method);
      expect(source).toContain('async () =>');
      expect(source).not.toContain('__awaiter');
    }
  });
});
