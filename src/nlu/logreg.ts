/**
 * A small multinomial logistic regression over sparse features, trained with SGD. It is the
 * character-level half of the intent ensemble: NLP.js sees word stems, this sees n-grams, so
 * typos and missing accents still share most features with the training utterances.
 */

/** A sparse feature vector: parallel arrays of feature indices and values. */
export interface SparseVec {
  idx: Int32Array;
  val: Float32Array;
}

/** Trained weights. `weights[f * numClasses + c]` is feature f's weight for class c. */
export interface LogRegModel {
  numFeatures: number;
  numClasses: number;
  weights: Float32Array;
  bias: Float32Array;
}

/** Training knobs; the defaults were chosen by cross-validation on the demo corpora. */
export interface LogRegOptions {
  epochs?: number;
  /** Initial learning rate, decayed as 1/(1 + t/N). */
  learningRate?: number;
  /** L2 penalty, applied lazily to the rows an example touches. */
  l2?: number;
  seed?: number;
  /** Per-example weights (e.g. 0.5 for augmented copies); default 1. */
  sampleWeights?: number[];
}

/** A deterministic PRNG (mulberry32) so that training is reproducible and the cache honest. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Softmax of the scores of x, written into `out`. */
function scores(model: LogRegModel, x: SparseVec, out: Float64Array): void {
  const k = model.numClasses;
  for (let c = 0; c < k; c += 1) out[c] = model.bias[c] ?? 0;
  for (let j = 0; j < x.idx.length; j += 1) {
    const f = x.idx[j] ?? 0;
    const v = x.val[j] ?? 0;
    const base = f * k;
    for (let c = 0; c < k; c += 1) out[c] = (out[c] ?? 0) + v * (model.weights[base + c] ?? 0);
  }
  let max = -Infinity;
  for (let c = 0; c < k; c += 1) max = Math.max(max, out[c] ?? 0);
  let sum = 0;
  for (let c = 0; c < k; c += 1) {
    const e = Math.exp((out[c] ?? 0) - max);
    out[c] = e;
    sum += e;
  }
  for (let c = 0; c < k; c += 1) out[c] = (out[c] ?? 0) / sum;
}

/** Class probabilities for one example. */
export function predictProba(model: LogRegModel, x: SparseVec): Float64Array {
  const out = new Float64Array(model.numClasses);
  scores(model, x, out);
  return out;
}

/**
 * Trains a softmax regression with plain SGD.
 *
 * @example
 * const m = trainLogReg(xs, ys, vocab.size, 3, { epochs: 20 });
 * predictProba(m, xs[0]); // Float64Array of 3 probabilities
 */
export function trainLogReg(
  xs: SparseVec[],
  ys: number[],
  numFeatures: number,
  numClasses: number,
  opts: LogRegOptions = {},
): LogRegModel {
  const epochs = opts.epochs ?? 30;
  const lr0 = opts.learningRate ?? 3;
  const l2 = opts.l2 ?? 1e-6;
  const random = rng(opts.seed ?? 1);
  const model: LogRegModel = {
    numFeatures,
    numClasses,
    weights: new Float32Array(numFeatures * numClasses),
    bias: new Float32Array(numClasses),
  };
  const order = xs.map((_, i) => i);
  const p = new Float64Array(numClasses);
  const n = Math.max(1, xs.length);
  let t = 0;
  for (let epoch = 0; epoch < epochs; epoch += 1) {
    for (let i = order.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      const tmp = order[i] ?? 0;
      order[i] = order[j] ?? 0;
      order[j] = tmp;
    }
    for (const i of order) {
      const x = xs[i];
      const y = ys[i];
      if (!x || y === undefined) continue;
      const sw = opts.sampleWeights?.[i] ?? 1;
      const lr = (lr0 * sw) / (1 + t / n);
      t += 1;
      scores(model, x, p);
      for (let c = 0; c < numClasses; c += 1) {
        const g = (p[c] ?? 0) - (c === y ? 1 : 0);
        model.bias[c] = (model.bias[c] ?? 0) - lr * g;
        p[c] = g;
      }
      for (let j = 0; j < x.idx.length; j += 1) {
        const base = (x.idx[j] ?? 0) * numClasses;
        const v = x.val[j] ?? 0;
        for (let c = 0; c < numClasses; c += 1) {
          const w = model.weights[base + c] ?? 0;
          model.weights[base + c] = w - lr * ((p[c] ?? 0) * v + l2 * w);
        }
      }
    }
  }
  return model;
}

/** Serialises a model to plain JSON (weights as base64 little-endian float32). */
export function logRegToJSON(model: LogRegModel): {
  numFeatures: number;
  numClasses: number;
  weights: string;
  bias: number[];
} {
  return {
    numFeatures: model.numFeatures,
    numClasses: model.numClasses,
    weights: Buffer.from(model.weights.buffer, model.weights.byteOffset, model.weights.byteLength).toString(
      'base64',
    ),
    bias: Array.from(model.bias),
  };
}

/** Inverse of {@link logRegToJSON}. */
export function logRegFromJSON(json: {
  numFeatures: number;
  numClasses: number;
  weights: string;
  bias: number[];
}): LogRegModel {
  const buf = Buffer.from(json.weights, 'base64');
  // Copy into an aligned buffer: a Float32Array view needs a 4-byte aligned offset.
  const weights = new Float32Array(buf.byteLength / 4);
  new Uint8Array(weights.buffer).set(buf);
  if (weights.length !== json.numFeatures * json.numClasses) {
    throw new Error(
      `logistic model: expected ${json.numFeatures * json.numClasses} weights, got ${weights.length}`,
    );
  }
  return {
    numFeatures: json.numFeatures,
    numClasses: json.numClasses,
    weights,
    bias: Float32Array.from(json.bias),
  };
}
