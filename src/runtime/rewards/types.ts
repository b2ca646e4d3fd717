// The reward and metric interface every judge implements, learned (ImageReward, PickScore, CLIP as ONNX files; the
// world's tiny CLIP) or exact (the world's oracle): alignment scores of (image, prompt) pairs, and image embeddings
// whose cosine similarity measures subject fidelity (DINO's role in DreamBooth's evaluation).
import type { ImageBatch } from '../engine/image.js';
export type { AlignmentScorer } from '../world/scorer.js';
export { promptFor } from '../world/scorer.js';

export interface ImageEmbedder {
  /** One L2-normalized embedding per image. */
  embed(images: ImageBatch): Promise<Float32Array[]>;
}

/** A judge may release native sessions when done. */
export interface Releasable {
  release?(): Promise<void>;
}
