// `npm run bench`: every benchmark of the project, each writing its own section of BENCHMARKS.md.
import { benchDbHeap } from './bench-db-heap.js';
import { benchDb } from './bench-db.js';
import { benchNlu } from './bench-nlu.js';
import { writeSection } from './benchmarks-file.js';

const only = process.argv.slice(2);
const benches: [string, () => Promise<string>][] = [
  ['nlu', benchNlu],
  ['db', benchDb],
  ['heap', benchDbHeap],
];
for (const [name, run] of benches) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stderr.write(`bench: ${name}…\n`);
  const section = await run();
  writeSection(section);
  process.stdout.write(`${section}\n`);
}
