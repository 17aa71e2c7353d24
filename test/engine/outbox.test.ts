import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/connection.js';
import type { Address } from '../../src/engine/activity.js';
import { Outbox, type ChannelSender } from '../../src/engine/outbox.js';
import type { Reply } from '../../src/engine/replies.js';
import { AppError } from '../../src/errors.js';
import { startTestMongo } from '../helpers/mongo.js';

let mongo: Awaited<ReturnType<typeof startTestMongo>>;
let db: Db;
beforeAll(async () => {
  mongo = await startTestMongo();
  db = await openDatabase(mongo.uri);
});
afterAll(async () => {
  await db?.close();
  await mongo?.stop();
});

const log = pino({ level: 'silent' });
const text = (t: string): Reply => ({ kind: 'text', text: t });
const address = (chat: string): Address => ({ channel: 'test', userId: chat, chatId: chat });

/** A platform that runs `behaviour` for each send and records what got through. */
function platform(behaviour: (reply: Reply, call: number) => void): ChannelSender & { got: string[] } {
  let calls = 0;
  const got: string[] = [];
  return {
    got,
    async send(_address, reply) {
      calls += 1;
      behaviour(reply, calls);
      got.push(reply.kind === 'text' ? reply.text : reply.kind);
      return {};
    },
  };
}

async function drained(outbox: Outbox, until: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!until()) {
    if (Date.now() > end) throw new Error('outbox did not deliver in time');
    outbox.kick();
    await new Promise((r) => setTimeout(r, 20));
  }
  await outbox.idle();
}

describe('outbox', () => {
  it('keeps a conversation in order through failures, and does not send anything twice', async () => {
    const sender = platform((reply, call) => {
      if (call <= 2) throw new Error('platform down');
    });
    const outbox = new Outbox(db, log, { baseDelayMs: 5, maxDelayMs: 20, pollMs: 10 });
    outbox.register('test', sender);
    outbox.start();
    await outbox.enqueue(address('order'), [text('one'), text('two'), text('three')], 'k-order');
    await outbox.enqueue(address('order'), [text('one'), text('two'), text('three')], 'k-order'); // replayed turn
    await drained(outbox, () => sender.got.length >= 3);
    await outbox.stop();
    expect(sender.got).toEqual(['one', 'two', 'three']);
    expect(await db.OutboundMessage.countDocuments({ conversationKey: 'test:order', status: 'sent' })).toBe(
      3,
    );
  });

  it('stores and sends once a turn enqueued twice at the same moment, and numbers the next turn after it', async () => {
    const sender = platform(() => undefined);
    const outbox = new Outbox(db, log, { baseDelayMs: 5, pollMs: 10 });
    outbox.register('test', sender);
    outbox.start();
    await Promise.all([
      outbox.enqueue(address('race'), [text('a'), text('b')], 'k-race'),
      outbox.enqueue(address('race'), [text('a'), text('b')], 'k-race'),
      outbox.enqueue(address('other'), [text('x')], 'k-other'),
    ]);
    await outbox.enqueue(address('race'), [text('c')], 'k-race-2');
    await drained(outbox, () => sender.got.includes('c') && sender.got.includes('x'));
    await outbox.stop();
    expect(sender.got.filter((t) => t !== 'x')).toEqual(['a', 'b', 'c']);
    const stored = await db.OutboundMessage.find({ conversationKey: 'test:race' }).sort({ seq: 1 }).lean();
    expect(stored.map((m) => m.reply['text'])).toEqual(['a', 'b', 'c']);
  });

  it('dead-letters a permanently refused reply at once, keeps it, and moves on', async () => {
    const sender = platform((reply) => {
      if (reply.kind === 'text' && reply.text === 'refused') {
        throw new AppError('CHANNEL_SEND_FAILED', ['test', 'window closed'], { permanent: true });
      }
    });
    const outbox = new Outbox(db, log, { baseDelayMs: 5, pollMs: 10 });
    outbox.register('test', sender);
    outbox.start();
    await outbox.enqueue(address('dead'), [text('refused'), text('after')], 'k-dead');
    await drained(outbox, () => sender.got.includes('after'));
    await outbox.stop();
    const dead = await db.OutboundMessage.findOne({ conversationKey: 'test:dead', status: 'dead' }).lean();
    expect(dead?.attempts).toBe(1);
    expect(dead?.lastError).toContain('window closed');
  });

  it('retries a failing reply with back-off, dead-letters it after maxAttempts, then sends the next', async () => {
    let tries = 0;
    const sender = platform((reply) => {
      if (reply.kind === 'text' && reply.text === 'flaky') {
        tries += 1;
        throw new AppError('CHANNEL_SEND_FAILED', ['test', 'HTTP 500']);
      }
    });
    const outbox = new Outbox(db, log, { baseDelayMs: 5, pollMs: 10, maxAttempts: 3 });
    outbox.register('test', sender);
    outbox.start();
    await outbox.enqueue(address('flaky'), [text('flaky'), text('next')], 'k-flaky');
    await drained(outbox, () => sender.got.includes('next'));
    await outbox.stop();
    expect(tries).toBe(3);
    const dead = await db.OutboundMessage.findOne({ conversationKey: 'test:flaky', status: 'dead' }).lean();
    expect(dead?.attempts).toBe(3);
    expect(dead?.lastError).toContain('HTTP 500');
  });

  it("waits at least the platform's retry-after before trying again", async () => {
    const sender = platform((_reply, call) => {
      if (call === 1) throw new AppError('CHANNEL_SEND_FAILED', ['test', '429'], { retryAfterMs: 60_000 });
    });
    const outbox = new Outbox(db, log, { baseDelayMs: 5, pollMs: 10 });
    outbox.register('test', sender);
    outbox.start();
    const before = Date.now();
    await outbox.enqueue(address('slow'), [text('later')], 'k-slow');
    await outbox.idle();
    await outbox.stop();
    const pending = await db.OutboundMessage.findOne({ conversationKey: 'test:slow' }).lean();
    expect(pending?.status).toBe('failed');
    expect(pending?.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(before + 60_000);
    expect(sender.got).toEqual([]);
  });
});

describe('outbox, numbering from memory', () => {
  it('notices that another instance enqueued meanwhile: the stale turn fails once, and every reply goes out once, in order', async () => {
    const sender = platform(() => undefined);
    const a = new Outbox(db, log, { baseDelayMs: 5, maxDelayMs: 20, pollMs: 10 });
    const b = new Outbox(db, log, { baseDelayMs: 5, maxDelayMs: 20, pollMs: 10 });
    for (const o of [a, b]) {
      o.register('test', sender);
      o.start();
    }
    const chat = address('handover');
    await a.enqueue(chat, [text('1'), text('2')], 'turn-1'); // a numbers 1–2 and remembers it
    await a.idle();
    await b.enqueue(chat, [text('3')], 'turn-2'); // the conversation moved to b (its lease): 3
    await b.idle();
    // a, back on the conversation, would number from its memory (3 again): refused, not duplicated.
    await expect(a.enqueue(chat, [text('4')], 'turn-3')).rejects.toThrow();
    await a.enqueue(chat, [text('4')], 'turn-3'); // the turn's retry reads the counter
    await drained(a, () => sender.got.filter((g) => /^\d$/.test(g)).length >= 4);
    await b.idle();
    expect(sender.got.filter((g) => /^\d$/.test(g))).toEqual(['1', '2', '3', '4']);
    const stored = await db.OutboundMessage.find({ conversationKey: 'test:handover' })
      .sort({ seq: 1 })
      .lean();
    expect(stored.map((m) => [m.seq, m.status])).toEqual([
      [1, 'sent'],
      [2, 'sent'],
      [3, 'sent'],
      [4, 'sent'],
    ]);
    await a.stop();
    await b.stop();
  });
});
