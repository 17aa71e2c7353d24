/**
 * The intent model for one language: an ensemble of NLP.js's NeuralNlu (word stems) and a
 * character n-gram logistic regression, with an out-of-scope threshold, the ensemble weight
 * and a confidence calibration all chosen by k-fold cross-validation on the TRAINING
 * utterances, so the held-out tests stay unseen until evaluation.
 */
import { type Lang, NONE } from './catalog.js';
import type { Example } from './corpus.js';
import {
  type LogRegModel,
  type SparseVec,
  logRegFromJSON,
  logRegToJSON,
  predictProba,
  rng,
  trainLogReg,
} from './logreg.js';
import { NlpjsIntentModel } from './nlpjs.js';
import { maskReferences } from './references.js';
import { fold, ngramFeatures } from './text.js';

/** Knobs for {@link trainLangModel}; tests shrink them to stay fast. */
export interface TrainOptions {
  /** Cross-validation folds for choosing threshold/weight/calibration (≥ 2). */
  folds?: number;
  /** Extra typo-augmented copies of each training utterance for the n-gram model. */
  augment?: number;
  epochs?: number;
  seed?: number;
}

/** Called after each training step. */
export type StepCallback = (stage: string) => void;

/** How many training steps {@link trainLangModel} reports for one language. */
export function stepsPerLanguage(opts: TrainOptions = {}): number {
  return (opts.folds ?? 4) + 1;
}

/** The serialised form of a {@link LangModel}. */
export interface LangModelJSON {
  lang: Lang;
  labels: string[];
  vocab: string[];
  logreg: ReturnType<typeof logRegToJSON>;
  nlpjs: object;
  /** Weight of the n-gram model in the ensemble (NLP.js gets 1 − alpha). */
  alpha: number;
  /** Below this ensemble probability an in-scope guess becomes None. */
  threshold: number;
  /** None wins when its probability exceeds this multiple of the best in-scope one. */
  noneRatio: number;
  /** Platt scaling of the decision's raw probability: sigmoid(a·p + b). */
  calibration: { a: number; b: number };
  /** Cross-validation figures behind the choices, for reports. */
  cv: { inScopeAccuracy: number; oosRecall: number; oosPrecision: number; examples: number };
}

/** One decision of a {@link LangModel}. */
export interface LangDecision {
  intent: string;
  score: number;
}

/** Maps text to the n-gram model's feature vector (unknown features are dropped). */
function featurize(text: string, vocab: Map<string, number>, grow: boolean): SparseVec {
  const feats = new Set(ngramFeatures(fold(maskReferences(text))));
  const idx: number[] = [];
  for (const f of feats) {
    let i = vocab.get(f);
    if (i === undefined && grow) {
      i = vocab.size;
      vocab.set(f, i);
    }
    if (i !== undefined) idx.push(i);
  }
  idx.sort((a, b) => a - b);
  const v = idx.length > 0 ? 1 / Math.sqrt(idx.length) : 0;
  return { idx: Int32Array.from(idx), val: new Float32Array(idx.length).fill(v) };
}

/**
 * A typo like people make on phones: a dropped, doubled or swapped letter in one word.
 * Chinese is left alone (no letters to drop).
 */
function typo(text: string, random: () => number): string {
  const ws = text.split(' ');
  const candidates = ws
    .map((w, i) => [w, i] as const)
    .filter(([w]) => w.length >= 4 && /^[\p{L}]+$/u.test(w));
  const pick = candidates[Math.floor(random() * candidates.length)];
  if (!pick) return text;
  const [w, i] = pick;
  const chars = Array.from(w);
  const at = 1 + Math.floor(random() * (chars.length - 2));
  const op = Math.floor(random() * 3);
  if (op === 0) chars.splice(at, 1);
  else if (op === 1) chars.splice(at, 0, chars[at] ?? '');
  else {
    const a = chars[at] ?? '';
    chars[at] = chars[at + 1] ?? a;
    chars[at + 1] = a;
  }
  ws[i] = chars.join('');
  return ws.join(' ');
}

interface Parts {
  vocab: Map<string, number>;
  lr: LogRegModel;
  nlp: NlpjsIntentModel;
}

async function trainParts(
  lang: Lang,
  labels: string[],
  train: readonly Example[],
  opts: TrainOptions,
): Promise<Parts> {
  const vocab = new Map<string, number>();
  const labelIndex = new Map(labels.map((l, i) => [l, i]));
  const xs: SparseVec[] = [];
  const ys: number[] = [];
  const ws: number[] = [];
  const random = rng((opts.seed ?? 7) + 13);
  for (const e of train) {
    xs.push(featurize(e.text, vocab, true));
    ys.push(labelIndex.get(e.intent) ?? 0);
    ws.push(1);
  }
  const augment = opts.augment ?? 1;
  for (let k = 0; k < augment; k += 1) {
    for (const e of train) {
      const noisy = typo(fold(e.text), random);
      if (noisy === fold(e.text)) continue;
      // Augmented copies may add n-grams of typos; they are real evidence for the label too.
      xs.push(featurize(noisy, vocab, true));
      ys.push(labelIndex.get(e.intent) ?? 0);
      ws.push(0.5);
    }
  }
  const lr = trainLogReg(xs, ys, vocab.size, labels.length, {
    epochs: opts.epochs ?? 30,
    seed: opts.seed ?? 7,
    sampleWeights: ws,
  });
  const nlp = await NlpjsIntentModel.train(lang, train);
  return { vocab, lr, nlp };
}

function ensemble(parts: Parts, labels: readonly string[], text: string, alpha: number): Float64Array {
  const pLr = predictProba(parts.lr, featurize(text, parts.vocab, false));
  const pNlp = parts.nlp.predict(text);
  const out = new Float64Array(labels.length);
  for (let i = 0; i < labels.length; i += 1) {
    out[i] = alpha * (pLr[i] ?? 0) + (1 - alpha) * (pNlp.get(labels[i] ?? '') ?? 0);
  }
  return out;
}

interface Raw {
  /** Index of the top label and its probability. */
  top: number;
  p: number;
}

/**
 * The decision rule: the best in-scope label wins unless its probability is under the
 * threshold or the None class outweighs it by more than `noneRatio`.
 */
function decide(
  labels: readonly string[],
  probs: Float64Array,
  threshold: number,
  noneRatio: number,
): Raw & { intent: string; raw: number } {
  let top = -1;
  let pNone = 0;
  for (let i = 0; i < probs.length; i += 1) {
    if (labels[i] === NONE) pNone = probs[i] ?? 0;
    else if (top < 0 || (probs[i] ?? 0) > (probs[top] ?? 0)) top = i;
  }
  const p = top < 0 ? 0 : (probs[top] ?? 0);
  if (top < 0 || pNone > noneRatio * p) return { top, p, intent: NONE, raw: pNone };
  if (p < threshold) return { top, p, intent: NONE, raw: 1 - p };
  return { top, p, intent: labels[top] ?? NONE, raw: p };
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

interface Scored {
  gold: string;
  pLr: Float64Array;
  pNlp: Float64Array;
}

function metrics(
  labels: readonly string[],
  scored: readonly Scored[],
  alpha: number,
  threshold: number,
  noneRatio: number,
): { inAcc: number; oosRec: number; oosPrec: number; n: number } {
  let inN = 0;
  let inOk = 0;
  let oosN = 0;
  let oosHit = 0;
  let predNone = 0;
  const probs = new Float64Array(labels.length);
  for (const s of scored) {
    for (let i = 0; i < labels.length; i += 1)
      probs[i] = alpha * (s.pLr[i] ?? 0) + (1 - alpha) * (s.pNlp[i] ?? 0);
    const d = decide(labels, probs, threshold, noneRatio);
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

/**
 * Trains the model of one language: k-fold cross-validation to choose the ensemble weight,
 * the out-of-scope threshold and the calibration, then a final fit on all utterances.
 */
export async function trainLangModel(
  lang: Lang,
  examples: readonly Example[],
  opts: TrainOptions = {},
  onStep: StepCallback = () => undefined,
): Promise<LangModelJSON> {
  const labels = [...new Set(examples.map((e) => e.intent))].sort();
  const k = Math.max(2, opts.folds ?? 4);
  const foldOf = assignFolds(examples, k, opts.seed ?? 7);
  const scored: Scored[] = [];
  for (let f = 0; f < k; f += 1) {
    const train = examples.filter((_, i) => foldOf[i] !== f);
    const held = examples.filter((_, i) => foldOf[i] === f);
    if (train.length > 0 && held.length > 0) {
      const parts = await trainParts(lang, labels, train, opts);
      for (const e of held) {
        const pLr = predictProba(parts.lr, featurize(e.text, parts.vocab, false));
        const nlp = parts.nlp.predict(e.text);
        scored.push({ gold: e.intent, pLr, pNlp: Float64Array.from(labels, (l) => nlp.get(l) ?? 0) });
      }
    }
    onStep(`${lang}: cross-validation ${f + 1}/${k}`);
  }

  const hasNone = labels.includes(NONE);
  let best = { alpha: 0.5, threshold: 0, noneRatio: 1, objective: -Infinity };
  for (const alpha of [0, 0.25, 0.4, 0.5, 0.6, 0.75, 1]) {
    if (hasNone) {
      for (const noneRatio of [0.75, 1, 1.5, 2, 3, 5]) {
        for (let t = 0; t <= 0.8; t += 0.02) {
          const m = metrics(labels, scored, alpha, t, noneRatio);
          // The three targets weigh the same; a tiny preference for the middle breaks ties.
          const objective = m.inAcc + m.oosRec + m.oosPrec - 0.001 * Math.abs(alpha - 0.5);
          if (objective > best.objective + 1e-9) best = { alpha, threshold: t, noneRatio, objective };
        }
      }
    } else {
      const m = metrics(labels, scored, alpha, 0, 1);
      const objective = m.inAcc - 0.001 * Math.abs(alpha - 0.5);
      if (objective > best.objective + 1e-9) best = { alpha, threshold: 0, noneRatio: 1, objective };
    }
  }
  if (!hasNone) {
    // No out-of-scope examples to learn from: reject only what cross-validation rarely
    // got right, the lowest 3% of confident-and-correct probabilities.
    const tops: number[] = [];
    const probs = new Float64Array(labels.length);
    for (const s of scored) {
      for (let i = 0; i < labels.length; i += 1)
        probs[i] = best.alpha * (s.pLr[i] ?? 0) + (1 - best.alpha) * (s.pNlp[i] ?? 0);
      const d = decide(labels, probs, 0, 1);
      if (d.intent === s.gold) tops.push(d.p);
    }
    tops.sort((a, b) => a - b);
    best.threshold = tops[Math.floor(tops.length * 0.03)] ?? 0;
  }

  const calPoints: { x: number; y: number }[] = [];
  const probs = new Float64Array(labels.length);
  for (const s of scored) {
    for (let i = 0; i < labels.length; i += 1)
      probs[i] = best.alpha * (s.pLr[i] ?? 0) + (1 - best.alpha) * (s.pNlp[i] ?? 0);
    const d = decide(labels, probs, best.threshold, best.noneRatio);
    calPoints.push({ x: d.raw, y: d.intent === s.gold ? 1 : 0 });
  }
  const calibration = platt(calPoints);
  const cvm = metrics(labels, scored, best.alpha, best.threshold, best.noneRatio);

  const parts = await trainParts(lang, labels, examples, opts);
  onStep(`${lang}: final model`);
  const vocab = [...parts.vocab.keys()];
  return {
    lang,
    labels,
    vocab,
    logreg: logRegToJSON(parts.lr),
    nlpjs: parts.nlp.toJSON(),
    alpha: best.alpha,
    threshold: best.threshold,
    noneRatio: best.noneRatio,
    calibration,
    cv: { inScopeAccuracy: cvm.inAcc, oosRecall: cvm.oosRec, oosPrecision: cvm.oosPrec, examples: cvm.n },
  };
}

/** What a loaded model keeps of its JSON: the decisions, not the weights (memory). */
export type LangModelMeta = Omit<LangModelJSON, 'vocab' | 'logreg' | 'nlpjs'>;

/** A trained model for one language. */
export class LangModel {
  private constructor(
    readonly json: LangModelMeta,
    private readonly parts: Parts,
  ) {}

  static fromJSON(json: LangModelJSON): LangModel {
    const vocab = new Map(json.vocab.map((f, i) => [f, i]));
    const { vocab: _v, logreg: _l, nlpjs: _n, ...meta } = json;
    return new LangModel(meta, {
      vocab,
      lr: logRegFromJSON(json.logreg),
      nlp: NlpjsIntentModel.fromJSON(json.lang, json.nlpjs),
    });
  }

  get labels(): readonly string[] {
    return this.json.labels;
  }

  /** Ensemble probabilities per label (same order as {@link labels}). */
  probabilities(text: string): Float64Array {
    return ensemble(this.parts, this.json.labels, text, this.json.alpha);
  }

  /** The intent (or None) and a calibrated confidence in it. */
  classify(text: string): LangDecision {
    const d = decide(this.json.labels, this.probabilities(text), this.json.threshold, this.json.noneRatio);
    const { a, b } = this.json.calibration;
    return { intent: d.intent, score: Math.round(sigmoid(a * d.raw + b) * 1000) / 1000 };
  }
}
