import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messengerChannel } from '../../src/channels/messenger/index.js';
import { signBody } from '../../src/channels/meta/signature.js';
import { webhookHarness } from '../fakes/graph-helpers.js';

const SECRET = 'prop-secret';
let harness: Awaited<ReturnType<typeof webhookHarness>>;

beforeAll(async () => {
  harness = await webhookHarness(
    messengerChannel({
      pageToken: 't',
      appSecret: SECRET,
      verifyToken: 'v',
      graphRoot: 'http://127.0.0.1:9',
      graphVersion: 'v21.0',
    }),
  );
});
afterAll(async () => {
  await harness?.stop();
});

const mostly = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 12, arbitrary: arb }, { weight: 1, arbitrary: fc.jsonValue() });
const str = (max: number): fc.Arbitrary<string> => fc.string({ minLength: 1, maxLength: max });

const attachment = fc.oneof(
  fc.record({
    type: fc.constant('location'),
    payload: fc.record({ coordinates: fc.record({ lat: fc.double(), long: fc.double() }) }),
  }),
  fc.record({
    type: fc.constantFrom('image', 'video', 'file', 'fallback'),
    payload: fc.record({ url: fc.string({ maxLength: 3000 }) }),
  }),
  fc.jsonValue(),
);
const event = fc.record(
  {
    sender: mostly(fc.record({ id: mostly(str(300)) })),
    timestamp: mostly(fc.oneof(fc.integer(), fc.double())),
    message: mostly(
      fc.record(
        {
          mid: mostly(str(300)),
          is_echo: mostly(fc.boolean()),
          text: mostly(fc.string({ maxLength: 5000 })),
          quick_reply: mostly(fc.record({ payload: mostly(fc.string({ maxLength: 300 })) })),
          attachments: mostly(fc.array(attachment, { maxLength: 12 })),
        },
        { requiredKeys: ['mid'] },
      ),
    ),
    postback: mostly(fc.record({ mid: mostly(str(300)), payload: mostly(fc.string({ maxLength: 300 })) })),
    delivery: fc.jsonValue(),
  },
  { requiredKeys: ['sender'] },
);
const envelope = fc.record({
  object: mostly(fc.constant('page')),
  entry: mostly(
    fc.array(fc.record({ messaging: mostly(fc.array(mostly(event), { minLength: 1, maxLength: 4 })) }), {
      minLength: 1,
      maxLength: 3,
    }),
  ),
});
const body = fc.oneof(
  { weight: 6, arbitrary: envelope.map((e) => JSON.stringify(e)) },
  { weight: 1, arbitrary: fc.json() },
  { weight: 1, arbitrary: fc.string({ maxLength: 500 }) },
);

describe('Messenger webhook under arbitrary signed payloads', () => {
  it('answers only 2xx or 4xx and hands the engine only valid activities', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (raw, signed) => {
        const res = await harness.app.inject({
          method: 'POST',
          url: '/webhooks/messenger',
          headers: {
            'content-type': 'application/json',
            'x-hub-signature-256': signBody(raw, signed ? SECRET : 'x'),
          },
          payload: raw,
        });
        expect(res.statusCode).toBeGreaterThanOrEqual(200);
        expect(res.statusCode).toBeLessThan(500);
        if (!signed) expect(res.statusCode).toBe(401);
        if (res.statusCode === 200) accepted += 1;
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(300);
    expect(harness.received.length).toBeGreaterThan(20);
  });
});
