// The reward and metric interface every judge implements, learned (ImageReward, PickScore, CLIP as ONNX files; the
// world's tiny CLIP) or exact (the world's oracle): alignment scores of (image, prompt) pairs, and image embeddings
// whose cosine similarity measures subject fidelity (DINO's role in DreamBooth's evaluation).
import type { ImageBatch } from '../engine/image.js';

/**
 * What a reward model or an alignment metric is, to the rest of the project: images and their prompts in, one number
 * per image out (higher is better aligned). Async because learned scorers run sessions.
 */
export interface AlignmentScorer {
  /** One score per image; `prompts` has one prompt per image (or a single prompt for all of them). */
  score(images: ImageBatch, prompts: string[]): Promise<number[]>;
}

/** The prompt of image i: prompts[i], or the only prompt for every image. */
export function promptFor(prompts: readonly string[], count: number, i: number): string {
  if (prompts.length === 1) return prompts[0];
  if (prompts.length !== count) throw new Error(`${count} images need ${count} prompts (or one for all), got ${prompts.length}`);
  return prompts[i];
}

export interface ImageEmbedder {
  /** One L2-normalized embedding per image. */
  embed(images: ImageBatch): Promise<Float32Array[]>;
}

/** A judge may release native sessions when done. */
export interface Releasable {
  release?(): Promise<void>;
}
