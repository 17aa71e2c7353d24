import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestMongo, type TestMongo } from '../helpers/mongo.js';
import { CountingNlu, RecordingPlatform, startInstance, type Instance } from './support.js';

let mongo: TestMongo;
let bot: Instance;
const RUNS = 2_000;

beforeAll(async () => {
  mongo = await startTestMongo();
  bot = await startInstance(mongo.uri, new CountingNlu(), new RecordingPlatform());
});
afterAll(async () => {
  await bot?.stop();
  await mongo?.stop();
});

/** A JSON value of any shape, and strings that look like the fields' own. */
const anyJson = fc.jsonValue({ maxDepth: 4 });
const tricky = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '__proto__',
    'constructor',
    '{"$gt":""}',
    'a'.repeat(5000),
    '../../etc/passwd',
  ),
);

/** A valid message with some of its fields replaced, dropped or retyped. */
const mutatedMessage = fc
  .record(
    {
      session: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{16,64}$/), tricky, anyJson),
      id: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/), tricky, anyJson),
      text: fc.oneof(tricky, anyJson),
      choice: fc.oneof(tricky, anyJson),
      location: fc.oneof(fc.record({ lat: fc.double(), lng: fc.double() }), anyJson),
      start: fc.oneof(fc.boolean(), anyJson),
      lang: fc.oneof(tricky, anyJson),
      $where: anyJson,
    },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));

const body = (valid: fc.Arbitrary<string>): fc.Arbitrary<{ payload: string; type: string }> =>
  fc.record({
    payload: fc.oneof(
      { weight: 6, arbitrary: valid },
      { weight: 2, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
      // Truncated and bit-flipped JSON.
      { weight: 1, arbitrary: valid.chain((s) => fc.nat(s.length).map((n) => s.slice(0, n))) },
    ),
    type: fc.constantFrom(
      'application/json',
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      '',
    ),
  });

const mutatedLogin = fc
  .record(
    {
      email: fc.oneof(fc.emailAddress(), tricky, anyJson),
      password: fc.oneof(fc.string({ maxLength: 64 }), tricky, anyJson),
      extra: anyJson,
    },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));

describe('fuzzing the HTTP API with generated and mutated payloads', () => {
  it(`web chat messages: ${RUNS} payloads, never a 5xx`, async () => {
    await fc.assert(
      fc.asyncProperty(body(mutatedMessage), async ({ payload, type }) => {
        const res = await bot.app.http.inject({
          method: 'POST',
          url: '/chat/api/messages',
          headers: type ? { 'content-type': type } : {},
          payload,
        });
        expect(res.statusCode).toBeLessThan(500);
      }),
      { numRuns: RUNS },
    );
    // Still serving: a well-formed message after the storm is accepted.
    const ok = await bot.app.http.inject({
      method: 'POST',
      url: '/chat/api/messages',
      payload: { session: 'fuzz-after-session-0001', id: 'fuzz-after-0001', text: 'hello' },
    });
    expect(ok.statusCode).toBeLessThan(300);
  });

  it(`console login: ${RUNS} payloads, never a 5xx`, async () => {
    await fc.assert(
      fc.asyncProperty(body(mutatedLogin), fc.ipV4(), async ({ payload, type }, ip) => {
        const res = await bot.app.http.inject({
          method: 'POST',
          url: '/api/v1/session',
          headers: type ? { 'content-type': type } : {},
          payload,
          remoteAddress: ip,
        });
        expect(res.statusCode).toBeLessThan(500);
      }),
      { numRuns: RUNS },
    );
  });
});
