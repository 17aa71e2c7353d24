import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activity } from '../../src/engine/activity.js';
import { TokenBuckets } from '../../src/engine/rate-limit.js';
import { startTestMongo, type TestMongo } from '../helpers/mongo.js';
import { CountingNlu, eventually, RecordingPlatform, startInstance, type Instance } from './support.js';

describe('token buckets', () => {
  it('let a burst through, then pace a key without touching the others', () => {
    let now = 0;
    const limiter = new TokenBuckets({ burst: 3, perSecond: 2 }, () => now);
    expect([1, 2, 3].map(() => limiter.take('flood'))).toEqual([0, 0, 0]);
    expect(limiter.take('flood')).toBe(500);
    expect(limiter.take('calm')).toBe(0);
    now = 500;
    expect(limiter.take('flood')).toBe(0);
    expect(limiter.take('flood')).toBe(500);
    now = 10_000;
    limiter.prune();
    expect(limiter.size).toBe(0);
  });
});

let mongo: TestMongo;
let bot: Instance;
const nlu = new CountingNlu();
const platform = new RecordingPlatform();
const FLOOD = 200;
const BURST = 5;

beforeAll(async () => {
  mongo = await startTestMongo();
  bot = await startInstance(mongo.uri, nlu, platform, { rateLimit: { burst: BURST, perSecond: 100 } });
});
afterAll(async () => {
  await bot?.stop();
  await mongo?.stop();
});

const activity = (user: string, n: number): Activity => ({
  address: { channel: 'test', userId: user, chatId: user },
  platformMessageId: `${user}-${n}`,
  at: new Date(),
  text: `message ${n} from ${user}`,
});

describe('a flood from one chat', () => {
  it('does not hold up another chat, and every flooded message is still answered', async () => {
    const accepted = await Promise.all(
      Array.from({ length: FLOOD }, (_, i) => bot.app.engine.receive(activity('flood', i + 1))),
    );
    expect(accepted.every((s) => s === 'accepted')).toBe(true);
    await bot.app.engine.receive(activity('calm', 1));

    await eventually(() => platform.to('calm').length > 0);
    const floodTurnsBeforeCalm = new Set(platform.to('flood').map((d) => d.key.split(':')[1])).size;
    // Calm waited for the flood's burst and a turn or two, not for the flood.
    expect(floodTurnsBeforeCalm).toBeLessThanOrEqual(BURST + 5);

    // Paced, not dropped: every flooded message is processed, once, in the end.
    await bot.app.engine.idle();
    expect(
      await bot.db.InboundMessage.countDocuments({ 'activity.address.chatId': 'flood', status: 'done' }),
    ).toBe(FLOOD);
    for (let n = 1; n <= FLOOD; n += 1) expect(nlu.seen.get(`message ${n} from flood`)).toBe(1);
    await eventually(() => new Set(platform.to('flood').map((d) => d.key.split(':')[1])).size === FLOOD);
  });
});
