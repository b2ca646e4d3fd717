// What a reward model or an alignment metric is, to the rest of the project: images and their prompts in, one
// number per image out (higher is better aligned). The world's oracle implements it exactly for this world; learned
// scorers (ImageReward, PickScore, CLIP-T) implement it for real images. Async because learned scorers run sessions.
import type { ImageBatch } from '../engine/image.js';

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
