// `npm run bench:load`: simulated citizens over the Telegram webhook path against the fake Bot API,
// the bot in a child process on the embedded database. Writes the "Load" section of BENCHMARKS.md.
//   npm run bench:load [-- --seconds 60 --ceiling-seconds 20 --citizens 1820 --cycle-ms 3500 --warmup-seconds 30 --rates 100,200]
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { startFakeTelegram, type FakeTelegram } from '../test/fakes/telegram.js';
import { writeSection } from './benchmarks-file.js';

const SERVER = fileURLToPath(new URL('./faults/server.ts', import.meta.url));

/**
 * The Node flags `npm start` gives the app (those between `tsx` and the entry in package.json's
 * `start` script), so that the bot measured here runs as it does in production.
 */
export function startFlags(startScript: string): string[] {
  const [runner, ...words] = startScript.trim().split(/\s+/);
  if (runner !== 'tsx') throw new Error(`the start script should run tsx: ${startScript}`);
  const entry = words.findIndex((w) => !w.startsWith('--'));
  return entry === -1 ? words : words.slice(0, entry);
}

const START_SCRIPT = z
  .object({ scripts: z.object({ start: z.string() }) })
  .parse(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))).scripts.start;
const TOKEN = '123456:BENCH-token';
const SECRET = 'bench-webhook-secret_0123456789';
/** What simulated citizens type: services, small talk and case questions, in the six languages. */
const TEXTS = [
  'hello',
  'what are the opening hours of the city hall?',
  'how do I renew my passport',
  'bonjour, comment obtenir un acte de naissance ?',
  'hola, necesito pagar el impuesto predial',
  'مرحبا، كيف أحصل على بطاقة الهوية؟',
  'здравствуйте, как записать ребенка в школу',
  '你好，我想办理营业执照',
  'thanks',
  'any news on C-7K4P9Q?',
];

export interface BotProcess {
  child: ChildProcess;
  port: number;
  /** The database the bot uses (the embedded server's URI; its database is `civic`). */
  dbUri: string;
  peakRss(): number;
  /** SIGTERM, and resolves when the process is gone. */
  stop(): Promise<void>;
  /** SIGKILL: no clean-up at all. */
  kill(): Promise<void>;
}

/** Starts scripts/faults/server.ts in `mode` with `env`, and resolves once it listens. */
export async function startBot(
  mode: 'app' | 'echo',
  env: Record<string, string>,
  opts: { execArgv?: string[] } = {},
): Promise<BotProcess> {
  const child = fork(SERVER, [mode], {
    execArgv: ['--import', 'tsx', ...startFlags(START_SCRIPT), ...(opts.execArgv ?? [])],
    env: { ...process.env, BENCH_TOKEN: TOKEN, BENCH_SECRET: SECRET, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let peak = 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dbUri = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.on('message', (m: unknown) => {
      if (typeof m !== 'object' || m === null) return;
      if ('rss' in m && typeof m.rss === 'number') peak = Math.max(peak, m.rss);
      if ('dbUri' in m && typeof m.dbUri === 'string') dbUri = m.dbUri;
      if ('ready' in m && typeof m.ready === 'number') resolve(m.ready);
    });
    child.once('exit', (code) => reject(new Error(`bot process exited (${String(code)}) before listening`)));
  });
  return {
    child,
    port,
    dbUri,
    peakRss: () => peak,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Calls `onSend(chatId, text, at)` for every successful send the fake records, as it arrives. The
 * fake has no subscription API; its `waitFor` re-checks a predicate on every call, which is one.
 */
export function watchSends(
  fake: FakeTelegram,
  onSend: (chatId: string, text: string, at: number) => void,
): void {
  let seen = 0;
  fake
    .waitFor((calls) => {
      for (; seen < calls.length; seen += 1) {
        const call = calls[seen];
        if (!call || !call.method.startsWith('send') || 'failed' in call.params) continue;
        const text = call.params['text'];
        onSend(String(call.params['chat_id']), typeof text === 'string' ? text : '', performance.now());
      }
      return false;
    }, 2_000_000_000)
    .catch(() => undefined);
}

let updateId = 1;
/** A Telegram text update from `chatId`. */
export function textUpdate(chatId: number, text: string): Record<string, unknown> {
  const id = updateId++;
  return {
    update_id: id,
    message: {
      message_id: id,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: 'private', first_name: 'Citizen' },
      from: { id: chatId, is_bot: false, first_name: 'Citizen', language_code: 'en' },
      text,
    },
  };
}

/**
 * Keep-alive connections to the bot, as Telegram keeps them. node:http rather than fetch: the load
 * generator shares the bot's two cores, and fetch cost it about twice the CPU per request.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** POSTs one update to the bot's webhook; resolves with the HTTP status (0 when the request failed). */
export function postUpdate(port: number, update: Record<string, unknown>): Promise<number> {
  const body = JSON.stringify(update);
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/webhooks/telegram',
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-telegram-bot-api-secret-token': SECRET,
        },
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', () => resolve(0));
      },
    );
    req.once('error', () => resolve(0));
    req.end(body);
  });
}

export interface LoadResult {
  mode: 'app' | 'echo';
  seconds: number;
  citizens: number;
  sent: number;
  answered: number;
  /** Non-200 answers, failed requests, and messages with no reply within the timeout. */
  errors: number;
  /** Messages whose first reply arrived within the measured window, per second of it. */
  perSecond: number;
  p50: number;
  p99: number;
  /**
   * The share of answered messages whose first reply took over 100 ms, in percent: p99 ≤ 100 ms is
   * the same as at most 1 % (to within one message), and it moves with a change more steadily than
   * p99 does.
   */
  over100Pct: number;
  max: number;
  peakRssMb: number;
  /**
   * How even the offered load was: the standard deviation of the send rate over 250 ms windows of
   * the measured period, per second (a Poisson stream at 500/s has about 45).
   */
  sendRateSd: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0
    ? NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN);

/**
 * Each citizen sends a message, waits for the first reply (the latency), then for the rest of its
 * replies (`quietMs` without one), then for its next slot: citizen `i` sends at `i/citizens` of a
 * cycle, then every `cycleMs`, on a fixed schedule (a citizen late for a slot sends at once and
 * skips the slots it missed). With a cycle longer than a turn's replies plus `quietMs`, the offered
 * load is as even as the schedule; shorter, citizens slip past their slots and bunch up. `cycleMs` 0
 * saturates.
 */
export async function runLoad(opts: {
  mode: 'app' | 'echo';
  seconds: number;
  citizens: number;
  cycleMs: number;
  quietMs: number;
  /**
   * Seconds of load before measuring: the first messages pay for connections being opened, code being
   * compiled and caches filling, which a bot that has been running for an hour no longer does.
   */
  warmupSeconds?: number;
  env?: Record<string, string>;
  /** Node flags for the bot process (e.g. `--cpu-prof`). */
  execArgv?: string[];
}): Promise<LoadResult> {
  const fake = await startFakeTelegram(TOKEN);
  const bot = await startBot(
    opts.mode,
    { BENCH_API_ROOT: fake.apiRoot, ...(opts.env ?? {}) },
    { execArgv: opts.execArgv ?? [] },
  );
  const waiting = new Map<string, (at: number) => void>();
  const lastReply = new Map<string, number>();
  watchSends(fake, (chatId, _text, at) => {
    lastReply.set(chatId, at);
    const wake = waiting.get(chatId);
    if (wake) {
      waiting.delete(chatId);
      wake(at);
    }
  });
  const latencies: number[] = [];
  /** Sends of the measured window per 250 ms, for {@link LoadResult.sendRateSd}. */
  const sendsPerQuarter = new Map<number, number>();
  /** First replies that arrived inside the measured window: the sustained rate, without the tail. */
  let answeredInWindow = 0;
  let sent = 0;
  let errors = 0;
  const start = performance.now();
  const measureFrom = start + (opts.warmupSeconds ?? 0) * 1000;
  const end = measureFrom + opts.seconds * 1000;
  const citizen = async (index: number): Promise<void> => {
    const chatId = 100_000 + index;
    const key = String(chatId);
    const firstAt = start + (index / opts.citizens) * Math.max(opts.cycleMs, 1000);
    await sleep(firstAt - performance.now());
    for (let n = 0; performance.now() < end; n += 1) {
      const t0 = performance.now();
      const counted = t0 >= measureFrom;
      const replied = new Promise<number | undefined>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(key);
          resolve(undefined);
        }, 10_000);
        waiting.set(key, (at) => {
          clearTimeout(timer);
          resolve(at);
        });
      });
      if (counted) {
        sent += 1;
        const quarter = Math.floor((t0 - measureFrom) / 250);
        sendsPerQuarter.set(quarter, (sendsPerQuarter.get(quarter) ?? 0) + 1);
      }
      const status = await postUpdate(
        bot.port,
        textUpdate(chatId, TEXTS[(index + n) % TEXTS.length] ?? 'hi'),
      );
      if (status !== 200) {
        if (counted) errors += 1;
        waiting.delete(key);
        await sleep(100);
        continue;
      }
      const at = await replied;
      if (at === undefined) {
        if (counted) errors += 1;
        continue;
      }
      if (counted) latencies.push(at - t0);
      if (at >= measureFrom && at <= end) answeredInWindow += 1;
      // The rest of this message's replies, so they are not taken for the next one's.
      for (let quiet = 0; quiet < opts.quietMs;) {
        await sleep(opts.quietMs - quiet);
        quiet = performance.now() - (lastReply.get(key) ?? 0);
      }
      // A citizen late for its next slot sends at once, then keeps to the slots after (no catching up).
      if (opts.cycleMs > 0) n = Math.max(n, Math.floor((performance.now() - firstAt) / opts.cycleMs) - 1);
      const rest = firstAt + (n + 1) * opts.cycleMs - performance.now();
      if (rest > 0) await sleep(rest);
    }
  };
  await Promise.all(Array.from({ length: opts.citizens }, (_, i) => citizen(i)));
  await bot.stop();
  await fake.close();
  const sorted = latencies.slice().sort((a, b) => a - b);
  const rates = Array.from({ length: opts.seconds * 4 }, (_, q) => (sendsPerQuarter.get(q) ?? 0) * 4);
  const meanRate = rates.reduce((a, b) => a + b, 0) / rates.length;
  return {
    mode: opts.mode,
    seconds: opts.seconds,
    citizens: opts.citizens,
    sent,
    answered: latencies.length,
    errors,
    perSecond: answeredInWindow / opts.seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    over100Pct: sorted.length === 0 ? NaN : (100 * sorted.filter((l) => l > 100).length) / sorted.length,
    max: sorted.at(-1) ?? NaN,
    peakRssMb: bot.peakRss() / 2 ** 20,
    sendRateSd: Math.sqrt(rates.reduce((a, r) => a + (r - meanRate) ** 2, 0) / rates.length),
  };
}

const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const row = (label: string, r: LoadResult): string =>
  `| ${label} | ${r.citizens} | ${r.seconds} | ${r.sent} | ${fmt(r.sent / r.seconds)} | ${fmt(r.sendRateSd, 0)} | ${r.answered} | ${r.errors} | ${fmt(r.perSecond)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.over100Pct, 2)} | ${fmt(r.max)} | ${fmt(r.peakRssMb, 0)} |`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      'ceiling-seconds': { type: 'string', default: '20' },
      citizens: { type: 'string', default: '1820' },
      // Longer than a turn's two replies (Telegram paces a chat at one a second) plus the quiet wait.
      'cycle-ms': { type: 'string', default: '3500' },
      'ceiling-citizens': { type: 'string', default: '2000' },
      // Every citizen's first message falls in the first cycle (new conversations, their first replies):
      // the warm-up lets that wave pass and the schedule settle before measuring.
      'warmup-seconds': { type: 'string', default: '30' },
      rates: { type: 'string', default: '100,200' },
      write: { type: 'boolean', default: true },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  const ceilingSeconds = Number(values['ceiling-seconds']);
  const citizens = Number(values.citizens);
  const cycleMs = Number(values['cycle-ms']);
  const ceilingCitizens = Number(values['ceiling-citizens']);
  const warmupSeconds = Number(values['warmup-seconds']);
  const quietMs = 1_100; // longer than Telegram's per-chat spacing, so a turn's second reply is awaited
  /** One run, announced and logged as it ends. */
  const run = async (
    what: string,
    opts: Pick<Parameters<typeof runLoad>[0], 'mode' | 'seconds' | 'citizens' | 'cycleMs'>,
  ): Promise<LoadResult> => {
    process.stderr.write(`bench:load: ${what}…\n`);
    const r = await runLoad({ ...opts, quietMs, warmupSeconds });
    process.stderr.write(`${JSON.stringify(r)}\n`);
    return r;
  };

  const offered = Math.round((citizens * 1000) / cycleMs);
  const sustained = await run(`our bot at ${offered} msg/s offered`, {
    mode: 'app',
    seconds,
    citizens,
    cycleMs,
  });
  // Lower offered rates, to show up to where the latency and error targets hold.
  const lower: LoadResult[] = [];
  for (const rate of (values.rates ?? '').split(',').filter(Boolean).map(Number)) {
    const rateCitizens = Math.round((rate * cycleMs) / 1000);
    lower.push(
      await run(`our bot at ${rate} msg/s offered`, {
        mode: 'app',
        seconds,
        citizens: rateCitizens,
        cycleMs,
      }),
    );
  }
  const saturated = { seconds: ceilingSeconds, citizens: ceilingCitizens, cycleMs: 0 };
  const ours = await run('saturation, our bot', { mode: 'app', ...saturated });
  const echo = await run('saturation, bare telegraf echo bot', { mode: 'echo', ...saturated });

  const ratio = ours.perSecond / echo.perSecond;
  const met = (ok: boolean): string => (ok ? 'met' : '**missed**');
  const section = [
    '## Load',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, with \`npm run bench:load${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\`.`,
    '',
    'Simulated Telegram citizens POST updates to `/webhooks/telegram` (with the secret header) of the bot running in a child',
    "process on the embedded database (in memory, in the bot process's worker thread, as `npm start` runs it, with its",
    `Node flags: \`${startFlags(START_SCRIPT).join(' ')}\`) with the real intent model; replies go to the fake Bot API`,
    "(`test/fakes/telegram.ts`) in the load generator's process, on",
    '127.0.0.1: generator, fake and bot share the 2 cores. Latency: from the POST to the first reply arriving at the fake.',
    'Each citizen sends on a fixed schedule (its own phase, then once per cycle), and never before the replies to its last',
    'message have stopped coming (1.1 s quiet: Telegram paces a chat at one message a second, 1000/s overall); the cycle is',
    'longer than that, so the offered load stays even (sent/s sd: the spread of the send rate over 250 ms windows; a Poisson',
    'stream at 500/s has about 45). Each run loads the bot for the warm-up seconds first and counts only',
    'messages sent after it. Errors: non-200 answers, failed requests, and messages with no reply within 10 s. Peak RSS',
    'is the bot process (app + embedded database). answered/s counts first replies that arrived within the measured',
    'window (what the bot sustained); sent/s is what the citizens offered in it; p50/p99 cover every message sent in it,',
    'and "> 100 ms %" is the share of them answered later than that (p99 ≤ 100 ms: at most 1 %).',
    '',
    '| run | citizens | s | sent | sent/s | sent/s sd | answered | errors | answered/s | p50 ms | p99 ms | > 100 ms % | max ms | peak RSS MiB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...[sustained, ...lower].map((r) =>
      row(`ours, ${cycleMs} ms cycle (${Math.round((r.citizens * 1000) / cycleMs)}/s offered)`, r),
    ),
    row('ours, saturated', ours),
    row('bare telegraf echo bot, saturated (ceiling)', echo),
    '',
    `Ratio (ours saturated / echo saturated): **${fmt(ratio, 2)}**.`,
    '',
    `Targets: ≥ 500 msg/s for ${seconds} s — ${met(sustained.perSecond >= 500 && seconds >= 60)}; p99 ≤ 100 ms — ${met(sustained.p99 <= 100)}; zero errors — ${met(sustained.errors === 0)}; ratio ≥ 0.25 — ${met(ratio >= 0.25)}.`,
  ].join('\n');
  if (!values['no-write']) writeSection(section);
  process.stdout.write(`${section}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
  process.exit(0); // the fake's call watcher holds a timer open
}
