import { describe, expect, it } from 'vitest';
import {
  logRegFromJSON,
  logRegToJSON,
  predictProba,
  trainLogReg,
  type SparseVec,
} from '../../src/nlu/logreg.js';

const vec = (idx: number[]): SparseVec => ({
  idx: Int32Array.from(idx),
  val: new Float32Array(idx.length).fill(1 / Math.sqrt(idx.length)),
});

describe('logistic regression', () => {
  // Features 0-1 mean class 0, 2-3 class 1, 4-5 class 2; feature 6 is noise shared by all.
  const xs = [
    vec([0, 6]),
    vec([1, 6]),
    vec([0, 1]),
    vec([2, 6]),
    vec([3, 6]),
    vec([2, 3]),
    vec([4, 6]),
    vec([5, 6]),
    vec([4, 5]),
  ];
  const ys = [0, 0, 0, 1, 1, 1, 2, 2, 2];

  it('learns separable classes and gives probabilities that sum to one', () => {
    const m = trainLogReg(xs, ys, 7, 3, { epochs: 50 });
    for (const [i, x] of xs.entries()) {
      const p = predictProba(m, x);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expect(p.indexOf(Math.max(...p))).toBe(ys[i]);
    }
  });

  it('is unsure about an input made only of shared noise', () => {
    const m = trainLogReg(xs, ys, 7, 3, { epochs: 50 });
    expect(Math.max(...predictProba(m, vec([6])))).toBeLessThan(0.6);
  });

  it('is deterministic for a seed and survives a save/load round trip', () => {
    const a = trainLogReg(xs, ys, 7, 3, { seed: 3 });
    const b = trainLogReg(xs, ys, 7, 3, { seed: 3 });
    expect(Array.from(a.weights)).toEqual(Array.from(b.weights));
    const restored = logRegFromJSON(JSON.parse(JSON.stringify(logRegToJSON(a))));
    expect(Array.from(predictProba(restored, xs[4] ?? vec([])))).toEqual(
      Array.from(predictProba(a, xs[4] ?? vec([]))),
    );
  });
});
