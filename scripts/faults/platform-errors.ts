// Fault (b): the platform answers 429 (with retry_after) and 500 for a while. Every reply must be
// delivered once it recovers, in the order the citizen would have read them without the fault.
//   npx tsx scripts/faults/platform-errors.ts [chats=20] [failures=60]
import { postUpdate, runAsScript, startRig, textUpdate, until } from './harness.js';

const SCRIPT = ['hello', 'what are your opening hours?', 'passport please', 'thanks', 'bye'];

export interface PlatformErrorsResult {
  ok: boolean;
  chats: number;
  messages: number;
  injected: { http500: number; http429: number };
  expectedReplies: number;
  delivered: number;
  chatsInOrder: number;
  deadLetters: number;
}

export async function platformErrors(chats = 20, failures = 60): Promise<PlatformErrorsResult> {
  const rig = await startRig();
  try {
    // Baseline: what one chat reads with a healthy platform.
    const baselineChat = 900_000;
    for (const text of SCRIPT) {
      const before = rig.received.get(String(baselineChat))?.length ?? 0;
      await postUpdate(rig.bot.port, textUpdate(baselineChat, text));
      await until(() => (rig.received.get(String(baselineChat))?.length ?? 0) > before, 10_000);
      await new Promise((r) => setTimeout(r, 300));
    }
    const baseline = rig.received.get(String(baselineChat)) ?? [];

    // The fault: the next sends fail, alternating server errors and rate limits.
    for (let i = 0; i < failures / 2; i += 1) {
      rig.fake.failNext(1, { code: 500 });
      rig.fake.failNext(1, { code: 429, retryAfter: 1 });
    }
    const ids = Array.from({ length: chats }, (_, i) => 910_000 + i);
    await Promise.all(
      ids.map(async (chatId) => {
        for (const text of SCRIPT) await postUpdate(rig.bot.port, textUpdate(chatId, text));
      }),
    );
    await until(
      () => ids.every((c) => (rig.received.get(String(c))?.length ?? 0) >= baseline.length),
      120_000,
    );
    const db = await rig.db();
    const deadLetters = await db.OutboundMessage.countDocuments({ status: 'dead' });
    const inOrder = ids.filter(
      (c) => JSON.stringify(rig.received.get(String(c)) ?? []) === JSON.stringify(baseline),
    ).length;
    const delivered = ids.reduce((n, c) => n + (rig.received.get(String(c))?.length ?? 0), 0);
    const injected = rig.fake.calls.filter((c) => 'failed' in c.params);
    return {
      ok: inOrder === chats && deadLetters === 0 && injected.length === failures,
      chats,
      messages: chats * SCRIPT.length,
      injected: {
        http500: injected.filter((c) => c.params['failed'] === 500).length,
        http429: injected.filter((c) => c.params['failed'] === 429).length,
      },
      expectedReplies: baseline.length * chats,
      delivered,
      chatsInOrder: inOrder,
      deadLetters,
    };
  } finally {
    await rig.close();
  }
}

await runAsScript(import.meta.url, () =>
  platformErrors(Number(process.argv[2] ?? 20), Number(process.argv[3] ?? 60)),
);
