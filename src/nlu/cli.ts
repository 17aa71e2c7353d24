/**
 * Command line for the intent model, so anyone can train and evaluate it:
 *
 *   npm run -s nlu -- classify [--model DIR]          one utterance per line in, one JSON per line out
 *   npm run -s nlu -- train [--corpus FILE]... [--out DIR]
 *   npm run -s nlu -- eval [--corpus FILE]...         exits 1 under the targets
 *
 * Exit codes: 0 success, 1 evaluation under target, 2 usage or input error (e.g. a missing
 * corpus file), 3 unexpected failure. Errors go to stderr; stdout carries only results.
 */
import { join, resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import { CorpusError, type Corpus } from './corpus.js';
import { formatReport, evaluate, holdOutIfNoTests } from './evaluate.js';
import {
  type IntentModel,
  type TrainProgress,
  loadFromCorpora,
  loadModelFrom,
  readCorpora,
  trainInWorker,
} from './index.js';
import { modelKey } from './cache.js';

const USAGE = `usage:
  nlu classify [--model DIR]              read utterances (one per line) on stdin, write JSON lines
  nlu train [--corpus FILE]... [--out DIR] train (default corpora: intents/*.json; default out: the cache)
  nlu eval [--corpus FILE]...             evaluate on the corpora's held-out tests`;

class UsageError extends Error {}

interface Args {
  command: string;
  corpora: string[];
  out?: string;
  model?: string;
}

function parseArgs(argv: string[]): Args {
  const [command, ...rest] = argv;
  if (!command || !['classify', 'train', 'eval'].includes(command))
    throw new UsageError(command ? `unknown command "${command}"` : 'no command');
  const args: Args = { command, corpora: [] };
  for (let i = 0; i < rest.length; i += 1) {
    const flag = rest[i];
    const value = rest[i + 1];
    const need = (): string => {
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      i += 1;
      return value;
    };
    if (flag === '--corpus' && command !== 'classify') args.corpora.push(need());
    else if (flag === '--out' && command === 'train') args.out = need();
    else if (flag === '--model' && command === 'classify') args.model = need();
    else throw new UsageError(`unknown option "${flag}" for ${command}`);
  }
  return args;
}

/** A progress bar on stderr, shown only once training has taken more than a second. */
function progressReporter(): { onProgress: (p: TrainProgress) => void; stop: () => void } {
  const started = Date.now();
  let bar: SingleBar | undefined;
  return {
    onProgress(p) {
      if (!bar && Date.now() - started > 1000) {
        bar = new SingleBar({
          format: 'training [{bar}] {value}/{total} {stage}',
          stream: process.stderr,
          // Not a terminal (CI, a pipe): still show it, line by line, so the wait is explained.
          noTTYOutput: !process.stderr.isTTY,
          notTTYSchedule: 5000,
          hideCursor: true,
        });
        bar.start(p.total, p.done, { stage: p.stage });
      }
      bar?.update(p.done, { stage: p.stage });
    },
    stop() {
      bar?.stop();
    },
  };
}

async function withProgress<T>(run: (onProgress: (p: TrainProgress) => void) => Promise<T>): Promise<T> {
  const reporter = progressReporter();
  try {
    return await run(reporter.onProgress);
  } finally {
    reporter.stop();
  }
}

/** Reads stdin as raw bytes and yields complete lines (without the newline). */
async function* stdinLines(): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  for await (const chunk of process.stdin) {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    let nl = buf.indexOf(0x0a);
    while (nl !== -1) {
      pending.push(buf.subarray(0, nl));
      yield Buffer.concat(pending);
      pending = [];
      buf = buf.subarray(nl + 1);
      nl = buf.indexOf(0x0a);
    }
    if (buf.length > 0) pending.push(buf);
  }
  if (pending.length > 0) yield Buffer.concat(pending);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

async function classify(args: Args): Promise<number> {
  const model: IntentModel = args.model
    ? await loadModelFrom(resolve(args.model)).catch((err: unknown) => {
        throw new UsageError(err instanceof Error ? err.message : String(err));
      })
    : await withProgress(defaultModel);
  let lineNo = 0;
  for await (const bytes of stdinLines()) {
    lineNo += 1;
    const raw = bytes.at(-1) === 0x0d ? bytes.subarray(0, -1) : bytes;
    let text: string;
    let valid = true;
    try {
      text = strictUtf8.decode(raw);
    } catch {
      valid = false;
      text = lenientUtf8.decode(raw);
      process.stderr.write(`line ${lineNo}: not valid UTF-8; answered None\n`);
    }
    const result = valid
      ? model.classifyRaw(text)
      : { text, intent: 'None', score: 1, lang: model.detectLanguage(text) };
    const ok = process.stdout.write(
      `${JSON.stringify({ text: result.text, intent: result.intent, score: result.score, lang: result.lang })}\n`,
    );
    if (!ok) await new Promise((r) => process.stdout.once('drain', r));
  }
  return 0;
}

async function defaultModel(onProgress: (p: TrainProgress) => void): Promise<IntentModel> {
  return loadFromCorpora(await readCorpora(), { onProgress });
}

function summary(model: IntentModel): string {
  return model.summary.models
    .map(
      (m) =>
        `${m.lang}: ${m.labels.length} labels, cross-validated in-scope ${(m.cv.inScopeAccuracy * 100).toFixed(1)}%, ` +
        `OOS recall ${(m.cv.oosRecall * 100).toFixed(1)}%, precision ${(m.cv.oosPrecision * 100).toFixed(1)}%, ` +
        `threshold ${m.threshold.toFixed(2)}, None bias ${m.noneBias}`,
    )
    .join('\n');
}

async function train(args: Args): Promise<number> {
  const corpora = await readCorpora({ corpora: args.corpora.map((c) => resolve(c)) });
  const started = Date.now();
  if (args.out) {
    const outFile = join(resolve(args.out), 'model.json');
    const json = await withProgress((onProgress) =>
      trainInWorker(corpora, modelKey(corpora), {}, outFile, onProgress),
    );
    process.stderr.write(`model written to ${outFile} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    const model = await loadModelFrom(outFile);
    process.stdout.write(`${summary(model)}\n`);
    return json.models.length > 0 ? 0 : 3;
  }
  const model = await withProgress((onProgress) => loadFromCorpora(corpora, { onProgress }));
  process.stderr.write(
    `${model.fromCache ? 'unchanged, cached model at' : 'model trained and cached at'} ${model.path ?? '?'}\n`,
  );
  process.stdout.write(`${summary(model)}\n`);
  return 0;
}

async function evalCommand(args: Args): Promise<number> {
  const corpora: Corpus[] = (await readCorpora({ corpora: args.corpora.map((c) => resolve(c)) })).map(
    holdOutIfNoTests,
  );
  const model = await withProgress((onProgress) => loadFromCorpora(corpora, { onProgress }));
  const report = evaluate(model, corpora);
  process.stdout.write(`${formatReport(report)}\n`);
  if (report.failures.length > 0) {
    process.stdout.write(`\nUNDER TARGET:\n${report.failures.map((f) => `- ${f}`).join('\n')}\n`);
    return 1;
  }
  process.stdout.write('\nAll targets met.\n');
  return 0;
}

async function main(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`nlu: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  try {
    if (args.command === 'classify') return await classify(args);
    if (args.command === 'train') return await train(args);
    return await evalCommand(args);
  } catch (err) {
    if (err instanceof CorpusError || err instanceof UsageError) {
      process.stderr.write(`nlu: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`nlu: ${err instanceof Error ? err.message : String(err)}\n`);
    return 3;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `nlu: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 3;
  },
);
