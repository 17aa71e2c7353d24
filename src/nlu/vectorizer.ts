/**
 * Sublinear TF-IDF over feature names, L2-normalised, with a vocabulary pruned by document
 * frequency: features seen in a single training utterance are mostly typos of one person and
 * cost memory without helping on unseen text.
 */
import type { SparseVec } from './logreg.js';

/** A fitted vectorizer: feature name → column, and each column's IDF. */
export interface Vectorizer {
  vocab: Map<string, number>;
  idf: Float32Array;
}

/** Learns the vocabulary and IDF from training documents (lists of feature names). */
export function fitVectorizer(docs: readonly (readonly string[])[], minDf: number): Vectorizer {
  const df = new Map<string, number>();
  for (const d of docs) for (const f of new Set(d)) df.set(f, (df.get(f) ?? 0) + 1);
  const vocab = new Map<string, number>();
  const idf: number[] = [];
  const n = docs.length;
  for (const [f, c] of df) {
    if (c < minDf) continue;
    vocab.set(f, vocab.size);
    idf.push(Math.log((1 + n) / (1 + c)) + 1);
  }
  return { vocab, idf: Float32Array.from(idf) };
}

/** Maps a document to its TF-IDF vector; features outside the vocabulary are dropped. */
export function vectorize(v: Vectorizer, doc: readonly string[]): SparseVec {
  const tf = new Map<number, number>();
  for (const f of doc) {
    const i = v.vocab.get(f);
    if (i !== undefined) tf.set(i, (tf.get(i) ?? 0) + 1);
  }
  const idx = Int32Array.from(tf.keys()).sort();
  const val = new Float32Array(idx.length);
  let norm = 0;
  for (let j = 0; j < idx.length; j += 1) {
    const i = idx[j] ?? 0;
    const x = (1 + Math.log(tf.get(i) ?? 1)) * (v.idf[i] ?? 1);
    val[j] = x;
    norm += x * x;
  }
  if (norm > 0) {
    const s = 1 / Math.sqrt(norm);
    for (let j = 0; j < val.length; j += 1) val[j] = (val[j] ?? 0) * s;
  }
  return { idx, val };
}
