import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activity } from '../../src/engine/activity.js';
import { startTestMongo, type TestMongo } from '../helpers/mongo.js';
import { CountingNlu, eventually, RecordingPlatform, startInstance, type Instance } from './support.js';

let mongo: TestMongo;
let a: Instance;
let b: Instance;
const nlu = new CountingNlu();
const platform = new RecordingPlatform();

beforeAll(async () => {
  mongo = await startTestMongo();
  a = await startInstance(mongo.uri, nlu, platform);
  b = await startInstance(mongo.uri, nlu, platform);
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await mongo?.stop();
});

const USERS = ['ana', 'bo', 'chen', 'dia'];
const PER_USER = 12;
const activity = (user: string, n: number): Activity => ({
  address: { channel: 'test', userId: user, chatId: user },
  platformMessageId: `${user}-${n}`,
  at: new Date(),
  text: `hello ${n} from ${user}`,
});

describe('two app instances on one database', () => {
  it('process every message once, whichever instance got it, and reply in order', async () => {
    // Every update reaches both instances (a platform retrying to a load balancer), interleaved.
    for (let n = 1; n <= PER_USER; n += 1) {
      const deliveries = USERS.flatMap((u) => [
        () => a.app.engine.receive(activity(u, n)),
        () => b.app.engine.receive(activity(u, n)),
      ]);
      if (n % 2 === 0) deliveries.reverse();
      const statuses = await Promise.all(deliveries.map((d) => d()));
      expect(statuses.filter((s) => s === 'accepted')).toHaveLength(USERS.length);
    }
    await eventually(
      async () =>
        (await a.db.InboundMessage.countDocuments({ status: 'done' })) === USERS.length * PER_USER &&
        USERS.every((u) => platform.to(u).length >= PER_USER),
    );
    await Promise.all([a.app.engine.idle(), b.app.engine.idle(), a.app.outbox.idle(), b.app.outbox.idle()]);

    // Once: every text reached the intent model exactly once, and one reply per message.
    for (const u of USERS)
      for (let n = 1; n <= PER_USER; n += 1) expect(nlu.seen.get(`hello ${n} from ${u}`)).toBe(1);
    expect(new Set(platform.deliveries.map((d) => d.key)).size).toBe(platform.deliveries.length);

    // In order: each citizen's replies answer their messages 1, 2, 3… in that order.
    const inbound = await a.db.InboundMessage.find({}, { platformMessageId: 1 }).lean();
    const numberOf = new Map(inbound.map((m) => [String(m._id), Number(m.platformMessageId.split('-')[1])]));
    for (const u of USERS) {
      const turns = platform.to(u).map((d) => numberOf.get(d.key.split(':')[1] ?? ''));
      const order = turns.filter((t, i) => t !== turns[i - 1]);
      expect(order).toEqual(Array.from({ length: PER_USER }, (_, i) => i + 1));
    }
  });

  it('finishes the messages an instance accepted before it died', async () => {
    const db = b.db;
    // Accepted by an instance that died before its turn ran: stored, never processed.
    await db.InboundMessage.create({
      channel: 'test',
      platformMessageId: 'orphan-1',
      activity: activity('eve', 1),
    });
    await db.InboundMessage.create({
      channel: 'test',
      platformMessageId: 'orphan-2',
      activity: activity('eve', 2),
      status: 'processing',
      lease: { owner: 'dead-instance', until: new Date(Date.now() - 1) },
    });
    await eventually(
      async () =>
        (await db.InboundMessage.countDocuments({ platformMessageId: /^orphan/, status: 'done' })) === 2,
    );
    expect(nlu.seen.get('hello 1 from eve')).toBe(1);
    expect(nlu.seen.get('hello 2 from eve')).toBe(1);
  });
});
