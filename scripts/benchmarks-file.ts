import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** BENCHMARKS.md at the repository root. */
export const BENCHMARKS_FILE = join(fileURLToPath(new URL('../', import.meta.url)), 'BENCHMARKS.md');

/**
 * Replaces the section of BENCHMARKS.md that starts with the same "## " heading as `section` (the
 * section's first line), or appends it; the other sections keep their last measured figures.
 */
export function writeSection(section: string, file: string = BENCHMARKS_FILE): void {
  const heading = section.split('\n', 1)[0] ?? '';
  if (!heading.startsWith('## ')) throw new Error('a benchmark section must start with a "## " heading');
  const current = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# Benchmarks\n\nWritten by `npm run bench`; each section says when and where it was measured.\n';
  const start = current.startsWith(`${heading}\n`) ? 0 : current.indexOf(`\n${heading}\n`) + 1;
  if (start === 0 && !current.startsWith(`${heading}\n`)) {
    writeFileSync(file, `${current.trimEnd()}\n\n${section.trimEnd()}\n`);
    return;
  }
  const next = current.indexOf('\n## ', start + 1);
  writeFileSync(
    file,
    `${current.slice(0, start)}${section.trimEnd()}\n${next === -1 ? '' : current.slice(next)}`,
  );
}
