import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { rewriteOnLoad } from '../src/module-rewrite.js';

describe('rewriteOnLoad', () => {
  it('compiles the rewritten source, leaves other files alone, and loads a failed one as shipped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'civic-rewrite-'));
    const file = (name: string): string => {
      const path = join(dir, name);
      writeFileSync(path, `module.exports = 'shipped ${name}';`);
      return path;
    };
    const [rewritten, untouched, broken] = [file('a.js'), file('b.js'), file('c.js')];
    const calls: string[] = [];
    const rewrite = (content: string, filename: string): string | undefined => {
      calls.push(filename);
      if (filename === broken) throw new Error('cannot');
      return filename === rewritten ? content.replace('shipped', 'rewritten') : undefined;
    };
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      rewriteOnLoad('CIVIC_TEST_REWRITE', 'it could not be rewritten', rewrite);
      rewriteOnLoad('CIVIC_TEST_REWRITE', 'it could not be rewritten', rewrite); // no second wrap
      const require = createRequire(import.meta.url);
      expect(require(rewritten)).toBe('rewritten a.js');
      expect(require(untouched)).toBe('shipped b.js');
      expect(require(broken)).toBe('shipped c.js');
      expect(calls.filter((f) => f === rewritten)).toHaveLength(1);
      expect(warnings).toHaveBeenCalledWith(
        `${broken} loads as shipped (it could not be rewritten: cannot)`,
        {
          code: 'CIVIC_TEST_REWRITE',
        },
      );
    } finally {
      warnings.mockRestore();
    }
  });
});
