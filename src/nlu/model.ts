/**
 * The intent model for one language: one multinomial logistic regression (fitted to
 * convergence with L-BFGS, class-balanced) over sublinear TF-IDF word unigrams and bigrams,
 * NLP.js stems and character n-grams (see features.ts). Out of scope is decided by the learned
 * None class, a bias towards it and a floor on the best in-scope probability; both knobs and the
 * confidence calibration are chosen by k-fold cross-validation on the TRAINING utterances, so
 * held-out tests stay unseen until evaluation.
 *
 * A corpus without out-of-scope examples (a public benchmark as published) gets synthetic
 * ones in cross-validation: each fold also leaves a group of intents out of training entirely,
 * and their utterances are scored as out of scope.
 */
import { type Lang, NONE } from './catalog.js';
import type { Example } from './corpus.js';
import { DEFAULT_FEATURES, type FeatureConfig, extractFeatures } from './features.js';
import { type LogRegModel, type SparseVec, rng, scores, trainLogRegLbfgs } from './logreg.js';
import { type Vectorizer, fitVectorizer, vectorize } from './vectorizer.js';

/** Knobs for {@link trainLangModel}; tests shrink them to stay fast. */
export interface TrainOptions {
  /** Cross-validation folds for choosing the out-of-scope rule and calibration (≥ 2). */
  folds?: number;
  /** L-BFGS iterations per fit. */
  maxIter?: number;
  /** L2 penalty; the default was chosen by cross-validation on the demo corpora. */
  l2?: number;
  seed?: number;
  /** Typo-noised copies added per in-scope training utterance (0 = none). */
  augment?: number;
  /** Sample weight of a noised copy relative to its original. */
  augmentWeight?: number;
  /** Candidate weights of the nearest-neighbour scores in the ensemble; CV picks one. */
  knnWeights?: number[];
}

/** Called after each training step. */
export type StepCallback = (stage: string) => void;

/** How many training steps {@link trainLangModel} reports for one language. */
export function stepsPerLanguage(opts: TrainOptions = {}): number {
  return (opts.folds ?? 4) + 1;
}

const DEFAULT_L2 = 2e-5;
/** Features must appear in this many training utterances to be kept (memory; typos of one). */
const MIN_DF = 2;
/** In-scope accuracy (absolute) the out-of-scope threshold may cost when no None examples exist. */
const MAX_IN_SCOPE_LOSS = 0.03;

/** The serialised form of a {@link LangModel}; arrays of numbers are base64 float32. */
export interface LangModelJSON {
  lang: Lang;
  labels: string[];
  features: FeatureConfig;
  /** Feature names, newline-separated, in column order. */
  vocab: string;
  idf: string;
  weights: string;
  bias: number[];
  /** Added to the None class's log-probability before comparing it with the best intent. */
  noneBias: number;
  /** Below this probability the best in-scope intent becomes None. */
  threshold: number;
  /** Platt scaling of the decision's raw probability: sigmoid(a·p + b). */
  calibration: { a: number; b: number };
  /** Weight of the nearest-neighbour probabilities in the ensemble (0: logistic regression only). */
  knnWeight?: number;
  /** Training vectors for the nearest-neighbour scores, present when `knnWeight` > 0. */
  knn?: KnnJSON;
  /** Cross-validation figures behind the choices, for reports. */
  cv: { inScopeAccuracy: number; oosRecall: number; oosPrecision: number; examples: number };
}

/** The nearest-neighbour index: per-feature postings (base64 int32 offsets, training-vector ids and labels; float32 values). */
export interface KnnJSON {
  offsets: string;
  /** Training-vector ids: uint16 when there are at most 65,536 vectors, else int32 (`wide`). */
  idx: string;
  /** Values in [0, 1], uint16 fixed point: half the size of float32 in the cached file. */
  val: string;
  ys: string;
  wide?: boolean;
}

const VAL_SCALE = 65535;

function i32ToBase64(a: Int32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function base64ToI32(s: string): Int32Array {
  const buf = Buffer.from(s, 'base64');
  const out = new Int32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

function bytesToBase64(a: Uint16Array | Int32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function knnToJSON(knn: KnnIndex): KnnJSON {
  const wide = knn.ys.length > 65536;
  const vals = Uint16Array.from(knn.vals, (v) => Math.round(Math.min(1, Math.max(0, v)) * VAL_SCALE));
  return {
    offsets: i32ToBase64(knn.offsets),
    idx: bytesToBase64(wide ? Int32Array.from(knn.docs) : Uint16Array.from(knn.docs)),
    val: bytesToBase64(vals),
    ys: i32ToBase64(knn.ys),
    ...(wide ? { wide } : {}),
  };
}

function base64ToU16(s: string): Uint16Array {
  const buf = Buffer.from(s, 'base64');
  const out = new Uint16Array(buf.byteLength / 2);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

function knnFromJSON(j: KnnJSON): KnnIndex {
  const ys = base64ToI32(j.ys);
  return {
    offsets: base64ToI32(j.offsets),
    docs: j.wide ? base64ToI32(j.idx) : base64ToU16(j.idx),
    vals: Float32Array.from(base64ToU16(j.val), (v) => v / VAL_SCALE),
    ys,
    dots: new Float64Array(ys.length),
  };
}

/** One decision of a {@link LangModel}. */
export interface LangDecision {
  intent: string;
  score: number;
}

function f32ToBase64(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function base64ToF32(s: string): Float32Array {
  const buf = Buffer.from(s, 'base64');
  // Copy into an aligned buffer: a Float32Array view needs a 4-byte aligned offset.
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

const DEFAULT_AUGMENT = 0;
/** The ensemble weights cross-validation chooses among (0: logistic regression alone). */
const DEFAULT_KNN_WEIGHTS = [0, 0.2, 0.4, 0.6];
const DEFAULT_AUGMENT_WEIGHT = 0.5;

/** Letters a phone keyboard puts next to each other (QWERTY), for substitution typos. */
const NEIGHBOURS: Record<string, string> = {
  a: 'qsz',
  b: 'vn',
  c: 'xv',
  d: 'sf',
  e: 'wr',
  f: 'dg',
  g: 'fh',
  h: 'gj',
  i: 'uo',
  j: 'hk',
  k: 'jl',
  l: 'k',
  m: 'n',
  n: 'bm',
  o: 'ip',
  p: 'o',
  q: 'wa',
  r: 'et',
  s: 'ad',
  t: 'ry',
  u: 'yi',
  v: 'cb',
  w: 'qe',
  x: 'zc',
  y: 'tu',
  z: 'xa',
};

/**
 * One typo in a random word of four letters or more: a dropped, doubled, swapped or
 * neighbouring letter, as thumbs make them. Returns the text unchanged when it has no such word.
 */
export function typo(text: string, random: () => number): string {
  const chars = Array.from(text);
  const spots: number[] = [];
  let run = 0;
  for (let i = 0; i < chars.length; i += 1) {
    run = /\p{L}/u.test(chars[i] ?? '') ? run + 1 : 0;
    // Inner letters of a word already 4 letters long: first letters are rarely mistyped.
    if (run >= 3 && /\p{L}/u.test(chars[i + 1] ?? '')) spots.push(i);
  }
  if (spots.length === 0) return text;
  const at = spots[Math.floor(random() * spots.length)] ?? 0;
  const ch = chars[at] ?? '';
  const op = Math.floor(random() * 4);
  if (op === 0) chars.splice(at, 1);
  else if (op === 1) chars.splice(at, 0, ch);
  else if (op === 2) {
    chars[at] = chars[at + 1] ?? ch;
    chars[at + 1] = ch;
  } else {
    const near = NEIGHBOURS[ch.toLowerCase()];
    if (near) chars[at] = near[Math.floor(random() * near.length)] ?? ch;
    else chars.splice(at, 1);
  }
  return chars.join('');
}

/** `copies` typo-noised versions of each in-scope example (None is left as written). */
function augmentExamples(train: readonly Example[], copies: number, seed: number): Example[] {
  if (copies <= 0) return [];
  const random = rng(seed + 101);
  const out: Example[] = [];
  for (const e of train) {
    if (e.intent === NONE) continue;
    for (let c = 0; c < copies; c += 1) {
      // A fractional count adds a copy with that probability.
      if (c + 1 > copies && random() > copies - c) break;
      const t = typo(e.text, random);
      if (t !== e.text) out.push({ ...e, text: t });
    }
  }
  return out;
}

interface Fitted {
  vec: Vectorizer;
  lr: LogRegModel;
  cfg: FeatureConfig;
  lang: Lang;
  /** Training vectors (L2-normalised) and their labels, for the nearest-neighbour scores. */
  knn: KnnIndex;
}

/**
 * Training vectors stored by feature (an inverted index): a query touches only the postings
 * of its own features, which keeps a classification within a millisecond or so.
 */
interface KnnIndex {
  /** `offsets[f]..offsets[f+1]` are feature f's postings in `docs`/`vals`. */
  offsets: Int32Array;
  docs: Int32Array | Uint16Array;
  vals: Float32Array;
  /** Label of each training vector. */
  ys: Int32Array;
  /** Reused per query: one dot product per training vector. */
  dots: Float64Array;
}

function buildKnnIndex(xs: readonly SparseVec[], ys: Int32Array, numFeatures: number): KnnIndex {
  const offsets = new Int32Array(numFeatures + 1);
  for (const x of xs) for (const f of x.idx) offsets[f + 1] = (offsets[f + 1] ?? 0) + 1;
  for (let f = 0; f < numFeatures; f += 1) offsets[f + 1] = (offsets[f + 1] ?? 0) + (offsets[f] ?? 0);
  const fill = offsets.slice(0, numFeatures);
  const docs = new Int32Array(offsets[numFeatures] ?? 0);
  const vals = new Float32Array(docs.length);
  xs.forEach((x, d) => {
    for (let j = 0; j < x.idx.length; j += 1) {
      const f = x.idx[j] ?? 0;
      const at = fill[f] ?? 0;
      docs[at] = d;
      vals[at] = x.val[j] ?? 0;
      fill[f] = at + 1;
    }
  });
  return { offsets, docs, vals, ys, dots: new Float64Array(xs.length) };
}

/** Sharpness of the nearest-neighbour softmax over per-class best cosine similarities. */
const KNN_BETA = 10;

/** Nearest-neighbour probabilities: softmax over each class's best cosine similarity. */
function knnProbabilities(m: Fitted, x: SparseVec, out: Float64Array): void {
  const k = m.lr.numClasses;
  out.fill(0);
  const { offsets, docs, vals, ys, dots } = m.knn;
  dots.fill(0);
  for (let j = 0; j < x.idx.length; j += 1) {
    const f = x.idx[j] ?? 0;
    const v = x.val[j] ?? 0;
    const end = offsets[f + 1] ?? 0;
    for (let p = offsets[f] ?? 0; p < end; p += 1) {
      const d = docs[p] ?? 0;
      dots[d] = (dots[d] ?? 0) + v * (vals[p] ?? 0);
    }
  }
  for (let d = 0; d < dots.length; d += 1) {
    const y = ys[d] ?? 0;
    if ((dots[d] ?? 0) > (out[y] ?? 0)) out[y] = dots[d] ?? 0;
  }
  let sum = 0;
  for (let c = 0; c < k; c += 1) {
    const e = Math.exp(KNN_BETA * ((out[c] ?? 0) - 1));
    out[c] = e;
    sum += e;
  }
  for (let c = 0; c < k; c += 1) out[c] = (out[c] ?? 0) / sum;
}

function fit(
  lang: Lang,
  labels: readonly string[],
  train: readonly Example[],
  opts: TrainOptions,
  cfg: FeatureConfig,
): Fitted {
  const aug = augmentExamples(train, opts.augment ?? DEFAULT_AUGMENT, opts.seed ?? 7);
  const all = [...train, ...aug];
  const docs = all.map((e) => extractFeatures(lang, e.text, cfg));
  const vec = fitVectorizer(docs, MIN_DF);
  const xs = docs.map((d) => vectorize(vec, d));
  const index = new Map(labels.map((l, i) => [l, i]));
  const ys = all.map((e) => index.get(e.intent) ?? 0);
  const counts = new Array<number>(labels.length).fill(0);
  for (const y of ys.slice(0, train.length)) counts[y] = (counts[y] ?? 0) + 1;
  const present = counts.filter((c) => c > 0).length;
  const augW = opts.augmentWeight ?? DEFAULT_AUGMENT_WEIGHT;
  // Class-balanced: a large None class must not pull every vague request towards None.
  // Noised copies count as part of their class, so the None bias (chosen by CV) absorbs the shift.
  const weights = ys.map(
    (y, i) => ((i < train.length ? 1 : augW) * train.length) / (present * (counts[y] ?? 1)),
  );
  const lr = trainLogRegLbfgs(xs, ys, vec.vocab.size, labels.length, {
    l2: opts.l2 ?? DEFAULT_L2,
    maxIter: opts.maxIter ?? 150,
    sampleWeights: weights,
  });
  return {
    vec,
    lr,
    cfg,
    lang,
    knn: buildKnnIndex(xs.slice(0, train.length), Int32Array.from(ys.slice(0, train.length)), vec.vocab.size),
  };
}

/** Softmax probabilities of a fitted model for one text, written into `out`. */
function probabilities(m: Fitted, text: string, out: Float64Array, knnOut?: Float64Array): void {
  const x: SparseVec = vectorize(m.vec, extractFeatures(m.lang, text, m.cfg));
  if (knnOut) knnProbabilities(m, x, knnOut);
  scores(m.lr, x, out);
}

interface Decision {
  intent: string;
  /** Probability behind the decision (of the intent, or of "not that intent" for None). */
  raw: number;
}

/**
 * The decision rule: the best in-scope label wins unless None, boosted by `noneBias`, is more
 * likely, or its probability is under `threshold`.
 */
function decide(
  labels: readonly string[],
  probs: Float64Array,
  noneBias: number,
  threshold: number,
  allowed?: ReadonlySet<number>,
): Decision {
  let top = -1;
  let pNone = 0;
  for (let i = 0; i < labels.length; i += 1) {
    if (labels[i] === NONE) pNone = probs[i] ?? 0;
    else if ((!allowed || allowed.has(i)) && (top < 0 || (probs[i] ?? 0) > (probs[top] ?? 0))) top = i;
  }
  const p = top < 0 ? 0 : (probs[top] ?? 0);
  if (top < 0 || pNone * Math.exp(noneBias) > p || p < threshold) return { intent: NONE, raw: 1 - p };
  return { intent: labels[top] ?? NONE, raw: p };
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Fits sigmoid(a·x + b) to 0/1 outcomes by gradient descent on log-loss. */
function platt(points: readonly { x: number; y: number }[]): { a: number; b: number } {
  if (points.length === 0) return { a: 1, b: 0 };
  let a = 4;
  let b = -2;
  for (let it = 0; it < 500; it += 1) {
    let ga = 0;
    let gb = 0;
    for (const { x, y } of points) {
      const g = sigmoid(a * x + b) - y;
      ga += g * x;
      gb += g;
    }
    a -= (0.5 * ga) / points.length;
    b -= (0.5 * gb) / points.length;
  }
  return { a, b };
}

/** One out-of-fold prediction; `allowed` are the labels its fold's model was trained on. */
interface Scored {
  gold: string;
  probs: Float64Array;
  /** Nearest-neighbour probabilities, mixed into `probs` by {@link mixScored}. */
  knn?: Float64Array;
  allowed?: ReadonlySet<number>;
}

interface Metrics {
  inAcc: number;
  oosRec: number;
  oosPrec: number;
  n: number;
}

function metrics(labels: readonly string[], scored: readonly Scored[], noneBias: number, t: number): Metrics {
  let inN = 0;
  let inOk = 0;
  let oosN = 0;
  let oosHit = 0;
  let predNone = 0;
  for (const s of scored) {
    const d = decide(labels, s.probs, noneBias, t, s.allowed);
    if (d.intent === NONE) predNone += 1;
    if (s.gold === NONE) {
      oosN += 1;
      if (d.intent === NONE) oosHit += 1;
    } else {
      inN += 1;
      if (d.intent === s.gold) inOk += 1;
    }
  }
  return {
    inAcc: inN ? inOk / inN : 1,
    oosRec: oosN ? oosHit / oosN : 1,
    oosPrec: predNone ? oosHit / predNone : oosN ? 0 : 1,
    n: scored.length,
  };
}

/**
 * What the out-of-scope rule maximises on cross-validation: in-scope accuracy plus the F1 of
 * out-of-scope detection. F1 weighs recall and precision together, so the rule cannot buy
 * recall by sending vague in-scope requests to None (which costs precision and accuracy).
 */
function objective(m: Metrics): number {
  const f1 = m.oosRec + m.oosPrec > 0 ? (2 * m.oosRec * m.oosPrec) / (m.oosRec + m.oosPrec) : 0;
  return m.inAcc + f1;
}

/** Stratified fold assignment, deterministic for a seed. */
function assignFolds(examples: readonly Example[], k: number, seed: number): number[] {
  const random = rng(seed);
  const byLabel = new Map<string, number[]>();
  examples.forEach((e, i) => {
    const list = byLabel.get(e.intent) ?? [];
    list.push(i);
    byLabel.set(e.intent, list);
  });
  const fold = new Array<number>(examples.length).fill(0);
  let offset = 0;
  for (const list of byLabel.values()) {
    for (let i = list.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      const t = list[i] ?? 0;
      list[i] = list[j] ?? 0;
      list[j] = t;
    }
    // Offsetting per label spreads small classes over different folds.
    list.forEach((ex, pos) => (fold[ex] = (pos + offset) % k));
    offset += list.length;
  }
  return fold;
}

/** Mixes each scored example's nearest-neighbour probabilities in with weight `w`. */
function mixScored(scored: readonly Scored[], w: number): Scored[] {
  if (w === 0) return [...scored];
  return scored.map((s) => {
    const probs = new Float64Array(s.probs.length);
    for (let c = 0; c < probs.length; c += 1) probs[c] = (1 - w) * (s.probs[c] ?? 0) + w * (s.knn?.[c] ?? 0);
    return { ...s, probs };
  });
}

/** The out-of-scope rule (None bias, threshold) chosen on cross-validated scores. */
function chooseRule(
  labels: readonly string[],
  scored: readonly Scored[],
  hasNone: boolean,
): { noneBias: number; threshold: number; value: number } {
  let best = { noneBias: 0, threshold: 0, value: -Infinity };
  if (hasNone) {
    for (const noneBias of [-1, -0.5, 0, 0.5, 1, 1.5, 2]) {
      for (let i = 0; i <= 90; i += 1) {
        const threshold = i / 100;
        const value = objective(metrics(labels, scored, noneBias, threshold));
        if (value > best.value + 1e-9) best = { noneBias, threshold, value };
      }
    }
  } else {
    // Without real None examples the stand-in unknowns (hidden intents) are easier to reject
    // than a citizen's real off-topic messages are to tell from vague in-scope ones, so the
    // F1 objective over-rejects: take the highest threshold that costs at most
    // MAX_IN_SCOPE_LOSS of cross-validated in-scope accuracy.
    const base = metrics(labels, scored, 0, 0).inAcc;
    for (let i = 0; i <= 90; i += 1) {
      const threshold = i / 100;
      const m = metrics(labels, scored, 0, threshold);
      if (base - m.inAcc <= MAX_IN_SCOPE_LOSS + 1e-9) best = { noneBias: 0, threshold, value: m.oosRec };
    }
  }
  return best;
}

/**
 * Trains the model of one language: k-fold cross-validation to choose the out-of-scope rule
 * and the calibration, then a final fit on all utterances.
 */
export function trainLangModel(
  lang: Lang,
  examples: readonly Example[],
  opts: TrainOptions = {},
  onStep: StepCallback = () => undefined,
): LangModelJSON {
  const cfg = DEFAULT_FEATURES;
  const labels = [...new Set(examples.map((e) => e.intent))].sort();
  const hasNone = labels.includes(NONE);
  const k = Math.max(2, opts.folds ?? 4);
  const seed = opts.seed ?? 7;
  const foldOf = assignFolds(examples, k, seed);
  // Without None examples, each fold also hides a group of intents to stand in for "unknown".
  const intents = labels.filter((l) => l !== NONE);
  const random = rng(seed + 1);
  const shuffled = intents
    .map((l) => ({ l, r: random() }))
    .sort((a, b) => a.r - b.r)
    .map((x) => x.l);
  const hiddenGroup = new Map(shuffled.map((l, i) => [l, i % k]));

  const scored: Scored[] = [];
  const leaveGroupOut = !hasNone && intents.length > k;
  for (let f = 0; f < k; f += 1) {
    const train = examples.filter((_, i) => foldOf[i] !== f);
    const held = examples.filter((_, i) => foldOf[i] === f);
    if (train.length > 0 && held.length > 0) {
      const model = fit(lang, labels, train, opts, cfg);
      for (const e of held) {
        const probs = new Float64Array(labels.length);
        const knn = new Float64Array(labels.length);
        probabilities(model, e.text, probs, knn);
        scored.push({ gold: e.intent, probs, knn });
      }
    }
    if (leaveGroupOut) {
      // Stand-ins for "unknown": every utterance of a group of intents the model never saw.
      // In-scope figures come from the ordinary folds above, whose models know every intent
      // as the final one does (fewer classes would make them over-confident).
      const unseen = (e: Example): boolean => hiddenGroup.get(e.intent) === f;
      const known = examples.filter((e) => !unseen(e));
      const model = fit(lang, labels, known, opts, cfg);
      const trained = new Set(known.map((e) => e.intent));
      const allowed = new Set(labels.flatMap((l, i) => (trained.has(l) ? [i] : [])));
      for (const e of examples.filter(unseen)) {
        const probs = new Float64Array(labels.length);
        const knn = new Float64Array(labels.length);
        probabilities(model, e.text, probs, knn);
        scored.push({ gold: NONE, probs, allowed, knn });
      }
    }
    onStep(`${lang}: cross-validation ${f + 1}/${k}`);
  }

  let chosen:
    { knnWeight: number; noneBias: number; threshold: number; value: number; scored: Scored[] } | undefined;
  for (const knnWeight of opts.knnWeights ?? DEFAULT_KNN_WEIGHTS) {
    const mixed = mixScored(scored, knnWeight);
    const b = chooseRule(labels, mixed, hasNone);
    if (process.env.NLU_DEBUG) console.error(lang, knnWeight, b);
    if (!chosen || b.value > chosen.value + 1e-9) chosen = { knnWeight, ...b, scored: mixed };
  }
  const best = chosen ?? { knnWeight: 0, noneBias: 0, threshold: 0, value: 0, scored };
  scored.splice(0, scored.length, ...best.scored);
  const calPoints = scored.map((s) => {
    const d = decide(labels, s.probs, best.noneBias, best.threshold, s.allowed);
    return { x: d.raw, y: d.intent === s.gold ? 1 : 0 };
  });
  const calibration = platt(calPoints);
  const cvm = metrics(labels, scored, best.noneBias, best.threshold);

  const final = fit(lang, labels, examples, opts, cfg);
  onStep(`${lang}: final model`);
  return {
    lang,
    labels,
    features: cfg,
    vocab: [...final.vec.vocab.keys()].join('\n'),
    idf: f32ToBase64(final.vec.idf),
    weights: f32ToBase64(final.lr.weights),
    bias: Array.from(final.lr.bias),
    noneBias: best.noneBias,
    threshold: best.threshold,
    ...(best.knnWeight > 0 ? { knnWeight: best.knnWeight, knn: knnToJSON(final.knn) } : {}),
    calibration,
    cv: { inScopeAccuracy: cvm.inAcc, oosRecall: cvm.oosRec, oosPrecision: cvm.oosPrec, examples: cvm.n },
  };
}

/** What a loaded model keeps of its JSON: the decisions, not the weights (memory). */
export type LangModelMeta = Omit<LangModelJSON, 'vocab' | 'idf' | 'weights' | 'bias' | 'knn'>;

/** A trained model for one language. */
export class LangModel {
  /** Reused between calls: classification allocates no per-class arrays. */
  private readonly probs: Float64Array;
  private readonly knnProbs: Float64Array;

  private constructor(
    readonly json: LangModelMeta,
    private readonly model: Fitted,
  ) {
    this.probs = new Float64Array(json.labels.length);
    this.knnProbs = new Float64Array(json.labels.length);
  }

  /** Logistic-regression probabilities, mixed with the nearest-neighbour ones when chosen. */
  private score(text: string): void {
    const w = this.json.knnWeight ?? 0;
    probabilities(this.model, text, this.probs, w > 0 ? this.knnProbs : undefined);
    if (w > 0) {
      for (let c = 0; c < this.probs.length; c += 1) {
        this.probs[c] = (1 - w) * (this.probs[c] ?? 0) + w * (this.knnProbs[c] ?? 0);
      }
    }
  }

  static fromJSON(json: LangModelJSON): LangModel {
    const names = json.vocab === '' ? [] : json.vocab.split('\n');
    const vocab = new Map<string, number>();
    names.forEach((f, i) => vocab.set(f, i));
    const idf = base64ToF32(json.idf);
    const weights = base64ToF32(json.weights);
    const k = json.labels.length;
    if (idf.length !== names.length || weights.length !== names.length * k || json.bias.length !== k) {
      throw new Error(`model for ${json.lang}: weights do not match its vocabulary and labels`);
    }
    if (json.knn && base64ToI32(json.knn.offsets).length !== names.length + 1) {
      throw new Error(`model for ${json.lang}: nearest-neighbour index does not match its vocabulary`);
    }
    const { vocab: _v, idf: _i, weights: _w, bias: _b, knn: _k, ...meta } = json;
    return new LangModel(meta, {
      vec: { vocab, idf },
      lr: { numFeatures: names.length, numClasses: k, weights, bias: Float32Array.from(json.bias) },
      cfg: json.features,
      lang: json.lang,
      knn: json.knn ? knnFromJSON(json.knn) : buildKnnIndex([], new Int32Array(0), 0),
    });
  }

  get labels(): readonly string[] {
    return this.json.labels;
  }

  /** Probabilities per label (same order as {@link labels}); a fresh copy. */
  probabilities(text: string): Float64Array {
    this.score(text);
    return Float64Array.from(this.probs);
  }

  /** The intent (or None) and a calibrated confidence in it. */
  classify(text: string): LangDecision {
    this.score(text);
    const d = decide(this.json.labels, this.probs, this.json.noneBias, this.json.threshold);
    const { a, b } = this.json.calibration;
    return { intent: d.intent, score: Math.round(sigmoid(a * d.raw + b) * 1000) / 1000 };
  }
}
