/**
 * A small multinomial logistic regression over sparse features: the intent classifier of
 * model.ts (fitted with L-BFGS), plus the older SGD trainer kept for quick experiments.
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

/** Softmax of the scores of x, written into `out` (the hot path of classification: no allocation). */
export function scores(model: LogRegModel, x: SparseVec, out: Float64Array): void {
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

/** Knobs of {@link trainLogRegLbfgs}. */
export interface LbfgsOptions {
  /** L2 penalty on the weights (not the biases), per unit of total sample weight. */
  l2: number;
  maxIter?: number;
  /** Per-example weights (class balancing, augmented copies); default 1. */
  sampleWeights?: readonly number[];
  /** Remembered curvature pairs. */
  memory?: number;
}

/**
 * Fits the same softmax regression to convergence with L-BFGS on the full batch: the penalty
 * then means what it says (SGD's early stopping was a hidden, corpus-dependent regulariser).
 */
export function trainLogRegLbfgs(
  xs: readonly SparseVec[],
  ys: readonly number[],
  numFeatures: number,
  numClasses: number,
  opts: LbfgsOptions,
): LogRegModel {
  const k = numClasses;
  const nw = numFeatures * k;
  const dim = nw + k;
  const sw = xs.map((_, i) => opts.sampleWeights?.[i] ?? 1);
  const total = sw.reduce((a, b) => a + b, 0) || 1;
  const p = new Float64Array(k);
  const evaluate = (theta: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < xs.length; i += 1) {
      const x = xs[i];
      const y = ys[i] ?? 0;
      if (!x) continue;
      for (let c = 0; c < k; c += 1) p[c] = theta[nw + c] ?? 0;
      for (let j = 0; j < x.idx.length; j += 1) {
        const base = (x.idx[j] ?? 0) * k;
        const v = x.val[j] ?? 0;
        for (let c = 0; c < k; c += 1) p[c] = (p[c] ?? 0) + v * (theta[base + c] ?? 0);
      }
      let max = -Infinity;
      for (let c = 0; c < k; c += 1) max = Math.max(max, p[c] ?? 0);
      let sum = 0;
      for (let c = 0; c < k; c += 1) sum += Math.exp((p[c] ?? 0) - max);
      const lse = max + Math.log(sum);
      const w = (sw[i] ?? 1) / total;
      loss += w * (lse - (p[y] ?? 0));
      for (let c = 0; c < k; c += 1) p[c] = w * (Math.exp((p[c] ?? 0) - lse) - (c === y ? 1 : 0));
      for (let c = 0; c < k; c += 1) grad[nw + c] = (grad[nw + c] ?? 0) + (p[c] ?? 0);
      for (let j = 0; j < x.idx.length; j += 1) {
        const base = (x.idx[j] ?? 0) * k;
        const v = x.val[j] ?? 0;
        for (let c = 0; c < k; c += 1) grad[base + c] = (grad[base + c] ?? 0) + v * (p[c] ?? 0);
      }
    }
    for (let d = 0; d < nw; d += 1) {
      const t = theta[d] ?? 0;
      loss += 0.5 * opts.l2 * t * t;
      grad[d] = (grad[d] ?? 0) + opts.l2 * t;
    }
    return loss;
  };

  const m = opts.memory ?? 6;
  const theta = new Float64Array(dim);
  const grad = new Float64Array(dim);
  const nextTheta = new Float64Array(dim);
  const nextGrad = new Float64Array(dim);
  const dir = new Float64Array(dim);
  const ss: Float32Array[] = [];
  const yy: Float32Array[] = [];
  const rho: number[] = [];
  const alphas = new Float64Array(m);
  const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
    let s = 0;
    for (let d = 0; d < dim; d += 1) s += (a[d] ?? 0) * (b[d] ?? 0);
    return s;
  };
  let loss = evaluate(theta, grad);
  for (let iter = 0; iter < (opts.maxIter ?? 200); iter += 1) {
    // Two-loop recursion: dir = −H·grad.
    for (let d = 0; d < dim; d += 1) dir[d] = -(grad[d] ?? 0);
    for (let h = ss.length - 1; h >= 0; h -= 1) {
      const a = (rho[h] ?? 0) * dot(ss[h] ?? dir, dir);
      alphas[h] = a;
      const yh = yy[h] ?? dir;
      for (let d = 0; d < dim; d += 1) dir[d] = (dir[d] ?? 0) - a * (yh[d] ?? 0);
    }
    if (ss.length > 0) {
      const last = ss.length - 1;
      const gamma = dot(ss[last] ?? dir, yy[last] ?? dir) / dot(yy[last] ?? dir, yy[last] ?? dir);
      for (let d = 0; d < dim; d += 1) dir[d] = (dir[d] ?? 0) * gamma;
    }
    for (let h = 0; h < ss.length; h += 1) {
      const b = (rho[h] ?? 0) * dot(yy[h] ?? dir, dir);
      const sh = ss[h] ?? dir;
      const a = alphas[h] ?? 0;
      for (let d = 0; d < dim; d += 1) dir[d] = (dir[d] ?? 0) + (a - b) * (sh[d] ?? 0);
    }
    let slope = dot(dir, grad);
    if (slope >= 0) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      ss.length = 0;
      yy.length = 0;
      rho.length = 0;
      for (let d = 0; d < dim; d += 1) dir[d] = -(grad[d] ?? 0);
      slope = dot(dir, grad);
    }
    let step = iter === 0 && ss.length === 0 ? 1 / Math.max(1e-12, Math.sqrt(dot(grad, grad))) : 1;
    let nextLoss = Infinity;
    for (let ls = 0; ls < 30; ls += 1) {
      for (let d = 0; d < dim; d += 1) nextTheta[d] = (theta[d] ?? 0) + step * (dir[d] ?? 0);
      nextLoss = evaluate(nextTheta, nextGrad);
      if (nextLoss <= loss + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(nextLoss < loss)) break;
    const s = new Float32Array(dim);
    const y = new Float32Array(dim);
    for (let d = 0; d < dim; d += 1) {
      s[d] = (nextTheta[d] ?? 0) - (theta[d] ?? 0);
      y[d] = (nextGrad[d] ?? 0) - (grad[d] ?? 0);
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      ss.push(s);
      yy.push(y);
      rho.push(1 / sy);
      if (ss.length > m) {
        ss.shift();
        yy.shift();
        rho.shift();
      }
    }
    theta.set(nextTheta);
    grad.set(nextGrad);
    const improved = loss - nextLoss;
    loss = nextLoss;
    if (improved < 1e-7 * Math.max(1, Math.abs(loss))) break;
  }
  return {
    numFeatures,
    numClasses,
    weights: Float32Array.from(theta.subarray(0, nw)),
    bias: Float32Array.from(theta.subarray(nw)),
  };
}
