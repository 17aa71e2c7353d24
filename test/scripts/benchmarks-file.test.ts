import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSection } from '../../scripts/benchmarks-file.js';

describe('BENCHMARKS.md sections', () => {
  it('replaces a section in place and keeps the others', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bench-')), 'BENCHMARKS.md');
    writeFileSync(file, '# Benchmarks\n\n## A\nold a\n\n## B\nold b\n');
    writeSection('## A\nnew a\n', file);
    writeSection('## C\nnew c', file);
    writeSection('## B\nnew b', file);
    expect(readFileSync(file, 'utf8')).toBe('# Benchmarks\n\n## A\nnew a\n\n## B\nnew b\n\n## C\nnew c\n');
  });
});
