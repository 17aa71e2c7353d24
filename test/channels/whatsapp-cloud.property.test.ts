import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '../../src/channels/meta/signature.js';
import { whatsappCloudChannel } from '../../src/channels/whatsapp-cloud/index.js';
import { webhookHarness } from '../fakes/graph-helpers.js';

const SECRET = 'prop-secret';
let harness: Awaited<ReturnType<typeof webhookHarness>>;

beforeAll(async () => {
  harness = await webhookHarness(
    whatsappCloudChannel({
      token: 't',
      phoneNumberId: '1',
      appSecret: SECRET,
      verifyToken: 'v',
      graphRoot: 'http://127.0.0.1:9',
      graphVersion: 'v21.0',
      updateTemplate: 'case_update',
    }),
  );
});
afterAll(async () => {
  await harness?.stop();
});

/** A value of the right type most of the time, and anything JSON can carry otherwise. */
const mostly = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 12, arbitrary: arb }, { weight: 1, arbitrary: fc.jsonValue() });

const anyMessage = fc.record(
  {
    from: mostly(fc.string({ maxLength: 300 })),
    id: mostly(fc.string({ maxLength: 300 })),
    timestamp: mostly(fc.oneof(fc.string(), fc.integer().map(String))),
    type: mostly(
      fc.constantFrom('text', 'interactive', 'button', 'location', 'image', 'document', 'reaction', 'x'),
    ),
    text: mostly(fc.record({ body: mostly(fc.string({ maxLength: 5000 })) })),
    interactive: mostly(
      fc.record({
        type: mostly(fc.constantFrom('button_reply', 'list_reply')),
        button_reply: mostly(fc.record({ id: mostly(fc.string({ maxLength: 300 })) })),
        list_reply: mostly(fc.record({ id: mostly(fc.string({ maxLength: 300 })) })),
      }),
    ),
    button: mostly(fc.record({ payload: mostly(fc.string({ maxLength: 300 })) })),
    location: mostly(fc.record({ latitude: mostly(fc.double()), longitude: mostly(fc.double()) })),
    image: mostly(
      fc.record({
        id: mostly(fc.string({ maxLength: 600 })),
        mime_type: mostly(fc.string({ maxLength: 200 })),
      }),
    ),
  },
  { requiredKeys: [] },
);
/** Well-formed messages of each type, with arbitrary contents (lengths past the limits included). */
const head = {
  from: fc.string({ minLength: 1, maxLength: 300 }),
  id: fc.string({ minLength: 1, maxLength: 300 }),
};
const wellFormed = fc.oneof(
  fc.record({
    ...head,
    type: fc.constant('text'),
    text: fc.record({ body: fc.string({ maxLength: 5000 }) }),
  }),
  fc.record({
    ...head,
    type: fc.constant('interactive'),
    interactive: fc.record({
      type: fc.constant('button_reply'),
      button_reply: fc.record({ id: fc.string({ maxLength: 300 }) }),
    }),
  }),
  fc.record({
    ...head,
    type: fc.constant('location'),
    location: fc.record({ latitude: fc.double(), longitude: fc.double() }),
  }),
  fc.record({ ...head, type: fc.constant('image'), image: fc.record({ id: fc.string({ maxLength: 600 }) }) }),
);
const message = fc.oneof(wellFormed, anyMessage);
const envelope = fc.record(
  {
    object: mostly(fc.constant('whatsapp_business_account')),
    entry: mostly(
      fc.array(
        fc.record({
          changes: mostly(
            fc.array(
              fc.record({
                field: mostly(fc.constant('messages')),
                value: mostly(
                  fc.record(
                    {
                      contacts: mostly(
                        fc.array(
                          fc.record({
                            wa_id: mostly(fc.string()),
                            profile: mostly(fc.record({ name: mostly(fc.string({ maxLength: 400 })) })),
                          }),
                        ),
                      ),
                      messages: mostly(fc.array(mostly(message), { maxLength: 4 })),
                      statuses: fc.jsonValue(),
                    },
                    { requiredKeys: [] },
                  ),
                ),
              }),
              { maxLength: 3 },
            ),
          ),
        }),
        { maxLength: 3 },
      ),
    ),
  },
  { requiredKeys: [] },
);
/** Signed bodies: shaped envelopes, arbitrary JSON, and arbitrary text (often not JSON at all). */
const body = fc.oneof(
  { weight: 6, arbitrary: envelope.map((e) => JSON.stringify(e)) },
  { weight: 1, arbitrary: fc.json() },
  { weight: 1, arbitrary: fc.string({ maxLength: 500 }) },
);

describe('WhatsApp Cloud webhook under arbitrary signed payloads', () => {
  it('answers only 2xx or 4xx and hands the engine only valid activities', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (raw, signed) => {
        const res = await harness.app.inject({
          method: 'POST',
          url: '/webhooks/whatsapp',
          headers: {
            'content-type': 'application/json',
            'x-hub-signature-256': signBody(raw, signed ? SECRET : 'other'),
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
    // The generator must reach the handler, not only bounce off the signature and JSON checks.
    expect(accepted).toBeGreaterThan(300);
    expect(harness.received.length).toBeGreaterThan(20);
  });
});
