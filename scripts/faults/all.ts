// All three fault scripts at full scale, one after the other; writes the "Faults" section of BENCHMARKS.md.
//   npx tsx scripts/faults/all.ts
import { cpus, totalmem } from 'node:os';
import { writeSection } from '../benchmarks-file.js';
import { killRestart } from './kill-restart.js';
import { platformErrors } from './platform-errors.js';
import { replay } from './replay.js';

const kill = await killRestart(400, 150);
process.stderr.write(`kill-restart: ${JSON.stringify(kill)}\n`);
const errors = await platformErrors(20, 60);
process.stderr.write(`platform-errors: ${JSON.stringify(errors)}\n`);
const replayed = await replay(30);
process.stderr.write(`replay: ${JSON.stringify(replayed)}\n`);

const pass = (ok: boolean): string => (ok ? 'pass' : '**FAIL**');
const section = [
  '## Faults',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, with \`npx tsx scripts/faults/all.ts\` (each script also runs alone: \`npx tsx scripts/faults/<name>.ts\`).`,
  'The bot runs as a child process (scripts/faults/server.ts) with the embedded database and a keyword stand-in for the intent',
  'model, behind the Telegram webhook, against the fake Bot API; small-scale versions are test/reliability/faults.test.ts.',
  '',
  '| fault | load | counts | result |',
  '| --- | --- | --- | --- |',
  `| SIGKILL mid-load, restart on the same \`--dir\` data | ${kill.posted} messages, one per chat, 16 in flight, kill after ${150} | accepted (200) ${kill.accepted}, not accepted ${kill.notAccepted}, answered ${kill.answered}, accepted but unanswered **${kill.acceptedUnanswered}**, answered without 200 ${kill.answeredWithoutAck}, restart ${kill.restartMs} ms | ${pass(kill.ok)} |`,
  `| platform answers 500 and 429 (retry_after 1 s) | ${errors.chats} chats × 5 messages | injected ${errors.injected.http500} × 500 + ${errors.injected.http429} × 429; replies expected ${errors.expectedReplies}, delivered ${errors.delivered}; chats in the healthy order ${errors.chatsInOrder}/${errors.chats}; dead letters ${errors.deadLetters} | ${pass(errors.ok)} |`,
  `| every update delivered 3× | ${replayed.chats} chats × 3 updates (hello, ask for a person, a question) | deliveries ${replayed.deliveries}, acknowledged ${replayed.acknowledged}; cases ${replayed.cases} (expected ${replayed.expectedCases}); replies ${replayed.replies} (expected ${replayed.expectedReplies}), duplicates **${replayed.duplicateReplies}** | ${pass(replayed.ok)} |`,
].join('\n');
writeSection(section);
process.stdout.write(`${section}\n`);
process.exit(0);
