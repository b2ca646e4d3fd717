// The evaluation metrics' arithmetic, as pure functions over embeddings and prompts: cosine similarity, DreamBooth's
// DINO protocol (mean cosine over every (generated, reference) pair), the references' own similarity (the ceiling a
// model that copies them reaches), CLIP-T's identifier removal, and mean/std for reports.
import type { AlignmentScorer } from './types.js';

/** Cosine similarity of two vectors of equal length (0 when either is all zeros). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cosine of vectors of lengths ${a.length} and ${b.length}`);
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  const d = Math.sqrt(aa * bb);
  return d > 0 ? ab / d : 0;
}

/** DINO/CLIP-I protocol: the mean cosine over all len(generated) x len(references) pairs. */
export function meanPairwiseCosine(generated: readonly ArrayLike<number>[], references: readonly ArrayLike<number>[]): number {
  if (generated.length === 0 || references.length === 0) throw new Error(`mean pairwise cosine needs embeddings on both sides (got ${generated.length} and ${references.length})`);
  let s = 0;
  for (const g of generated) for (const r of references) s += cosine(g, r);
  return s / (generated.length * references.length);
}

/** Mean cosine over the distinct pairs of one set (i < j), e.g. a subject's references among themselves. */
export function selfSimilarity(references: readonly ArrayLike<number>[]): number {
  const n = references.length;
  if (n < 2) throw new Error(`self-similarity needs at least 2 embeddings, got ${n}`);
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += cosine(references[i], references[j]);
  return s / ((n * (n - 1)) / 2);
}

/**
 * The prompt without the subject's identifier, as CLIP-T scores it: "a sks star wearing a hat" -> "a star wearing a
 * hat". Whole words only, case-insensitive; whitespace is collapsed. An identifier of several words is removed as a
 * phrase.
 */
export function removeIdentifier(prompt: string, identifier: string): string {
  const id = identifier.trim();
  if (!id) return prompt.trim().replace(/\s+/g, ' ');
  const escaped = id.split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\s+');
  return prompt.replace(new RegExp(`(^|\\s)${escaped}(?=\\s|$|[,.;:!?])`, 'gi'), '$1').trim().replace(/\s+/g, ' ').replace(/\s+([,.;:!?])/g, '$1');
}

/** A judge that reads each prompt without the identifier: CLIP-style scorers never learned the word. */
export function scoreWithoutIdentifier(scorer: AlignmentScorer, identifier: string): AlignmentScorer {
  return { score: (images, prompts) => scorer.score(images, prompts.map((p) => removeIdentifier(p, identifier))) };
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('mean of no values');
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Standard deviation; population (divide by n) by default, sample (n - 1) when asked. */
export function std(xs: readonly number[], o: { sample?: boolean } = {}): number {
  const n = xs.length;
  if (n === 0) throw new Error('std of no values');
  if (o.sample && n < 2) throw new Error('sample std needs at least 2 values');
  const m = mean(xs);
  const ss = xs.reduce((a, x) => a + (x - m) * (x - m), 0);
  return Math.sqrt(ss / (o.sample ? n - 1 : n));
}

/** Mean and standard deviation in one call (population std). */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  return { mean: mean(xs), std: std(xs) };
}
