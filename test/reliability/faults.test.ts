import { describe, expect, it } from 'vitest';
import { killRestart } from '../../scripts/faults/kill-restart.js';
import { platformErrors } from '../../scripts/faults/platform-errors.js';
import { replay } from '../../scripts/faults/replay.js';

// The fault scripts at small scale: each runs the bot as a child process against the fake Bot API, so each
// gets the time a loaded 2-core machine needs to start, kill and restart processes.
const CHILD_PROCESS_TIMEOUT = 120_000;
describe('faults', () => {
  it(
    'SIGKILL mid-load, restart on the same data dir: every acknowledged message is answered',
    async () => {
      const r = await killRestart(60, 20, 8);
      expect(r.notAccepted).toBeGreaterThan(0); // the kill did land mid-load
      expect(r.accepted).toBeGreaterThan(0);
      expect(r.acceptedUnanswered).toBe(0);
    },
    CHILD_PROCESS_TIMEOUT,
  );

  it(
    'the platform answering 429 and 500 for a while: every reply delivered, in order, none dead',
    async () => {
      const r = await platformErrors(4, 16);
      expect(r.injected).toEqual({ http500: 8, http429: 8 });
      expect(r.chatsInOrder).toBe(4);
      expect(r.delivered).toBe(r.expectedReplies);
      expect(r.deadLetters).toBe(0);
    },
    CHILD_PROCESS_TIMEOUT,
  );

  it(
    'every update delivered three times: no duplicate case, no duplicate reply',
    async () => {
      const r = await replay(4);
      expect(r.acknowledged).toBe(r.deliveries);
      expect(r.cases).toBe(r.expectedCases);
      expect(r.duplicateReplies).toBe(0);
    },
    CHILD_PROCESS_TIMEOUT,
  );
});
