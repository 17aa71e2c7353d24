// Fault (c): every update is delivered three times (Telegram retrying, a proxy replaying).
// No duplicate case and no duplicate reply may come of it.
//   npx tsx scripts/faults/replay.ts [chats=30]
import { postUpdate, runAsScript, startRig, textUpdate, until } from './harness.js';

const SCRIPT = ['hello', 'I want to talk to a person', 'what are your opening hours?'];

export interface ReplayResult {
  ok: boolean;
  chats: number;
  updates: number;
  deliveries: number;
  acknowledged: number;
  cases: number;
  expectedCases: number;
  expectedReplies: number;
  replies: number;
  duplicateReplies: number;
}

export async function replay(chats = 30): Promise<ReplayResult> {
  const rig = await startRig();
  try {
    // Baseline: one chat, each update delivered once.
    const baselineChat = 800_000;
    for (const text of SCRIPT) await postUpdate(rig.bot.port, textUpdate(baselineChat, text));
    await until(async () => (await (await rig.db()).Case.countDocuments({})) === 1, 10_000);
    await new Promise((r) => setTimeout(r, 1_500));
    const baseline = rig.received.get(String(baselineChat)) ?? [];

    const ids = Array.from({ length: chats }, (_, i) => 810_000 + i);
    const updates = ids.map((chatId) => SCRIPT.map((text) => textUpdate(chatId, text)));
    let acknowledged = 0;
    let deliveries = 0;
    // Three rounds; in each, every chat's updates go in order, chats in parallel.
    for (let round = 0; round < 3; round += 1) {
      await Promise.all(
        updates.map(async (list) => {
          for (const update of list) {
            deliveries += 1;
            if ((await postUpdate(rig.bot.port, update)) === 200) acknowledged += 1;
          }
        }),
      );
    }
    const db = await rig.db();
    await until(async () => (await db.Case.countDocuments({})) >= chats + 1, 30_000);
    await until(
      () => ids.every((c) => (rig.received.get(String(c))?.length ?? 0) >= baseline.length),
      30_000,
    );
    await new Promise((r) => setTimeout(r, 2_000)); // a duplicate, if any, has time to arrive
    const cases = await db.Case.countDocuments({});
    const replies = ids.reduce((n, c) => n + (rig.received.get(String(c))?.length ?? 0), 0);
    const expectedReplies = baseline.length * chats;
    return {
      ok: cases === chats + 1 && replies === expectedReplies && acknowledged === deliveries,
      chats,
      updates: chats * SCRIPT.length,
      deliveries,
      acknowledged,
      cases: cases - 1,
      expectedCases: chats,
      expectedReplies,
      replies,
      duplicateReplies: replies - expectedReplies,
    };
  } finally {
    await rig.close();
  }
}

await runAsScript(import.meta.url, () => replay(Number(process.argv[2] ?? 30)));
