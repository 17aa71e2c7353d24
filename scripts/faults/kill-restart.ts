// Fault (a): the bot is killed with SIGKILL mid-load and restarted on the same durable data dir.
// Every message the webhook acknowledged (HTTP 200) must be answered after the restart.
//   npx tsx scripts/faults/kill-restart.ts [messages=400] [killAfter=150]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postUpdate, runAsScript, startRig, textUpdate, until } from './harness.js';

export interface KillRestartResult {
  ok: boolean;
  posted: number;
  /** Webhook answered 200: Telegram would not redeliver these. */
  accepted: number;
  /** Refused or failed (the process was dead): Telegram would redeliver these. */
  notAccepted: number;
  answered: number;
  acceptedUnanswered: number;
  /** Stored just before the kill but not acknowledged: answered too (Telegram's redelivery is then a duplicate, dropped). */
  answeredWithoutAck: number;
  restartMs: number;
}

/** One message per chat (so "answered" is exact), `concurrency` in flight, SIGKILL after `killAfter` posts. */
export async function killRestart(
  messages = 400,
  killAfter = 150,
  concurrency = 16,
): Promise<KillRestartResult> {
  const dir = await mkdtemp(join(tmpdir(), 'civic-kill-'));
  const rig = await startRig({ BENCH_DATA_DIR: dir });
  const accepted = new Set<string>();
  let notAccepted = 0;
  let restartMs = 0;
  try {
    let next = 0;
    let outage: Promise<void> | undefined;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < messages; i = next++) {
        if (i === killAfter) {
          // Killed while the other workers' requests are in flight; back up on the same data dir.
          outage = (async () => {
            await rig.bot.kill();
            const t0 = Date.now();
            await rig.restart();
            restartMs = Date.now() - t0;
          })();
        }
        const chatId = 500_000 + i;
        const status = await postUpdate(rig.bot.port, textUpdate(chatId, 'what are your opening hours?'));
        if (status === 200) accepted.add(String(chatId));
        else {
          notAccepted += 1;
          await outage; // the platform would retry later; this load generator waits for the restart
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, () => worker()));
    await until(() => [...accepted].every((c) => (rig.received.get(c)?.length ?? 0) > 0), 60_000);
    const answered = [...rig.received.keys()];
    const acceptedUnanswered = [...accepted].filter((c) => !rig.received.has(c)).length;
    return {
      ok: acceptedUnanswered === 0 && accepted.size > 0 && notAccepted > 0,
      posted: messages,
      accepted: accepted.size,
      notAccepted,
      answered: answered.length,
      acceptedUnanswered,
      answeredWithoutAck: answered.filter((c) => !accepted.has(c)).length,
      restartMs,
    };
  } finally {
    await rig.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await runAsScript(import.meta.url, () =>
  killRestart(Number(process.argv[2] ?? 400), Number(process.argv[3] ?? 150)),
);
