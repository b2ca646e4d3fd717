// The REWARD_MODEL value: a judge of (image, prompt) alignment, and, when it has an image tower, an embedder for
// subject fidelity. The world's oracle, the tiny CLIP, or a user's ONNX export of ImageReward, PickScore or CLIP.
import type { AlignmentScorer, ImageEmbedder } from '../../runtime/rewards/types.js';

export interface RewardHandle {
  /** Column name in tables ("oracle", "tiny-clip", "ImageReward"). */
  readonly name: string;
  readonly scorer: AlignmentScorer;
  readonly embedder?: ImageEmbedder;
  /** Score prompts with the identifier (reward models: yes; CLIP-T: the prompt without it). */
  readonly withIdentifier: boolean;
}

export function asReward(v: unknown, input = 'reward_model'): RewardHandle {
  const r = v as RewardHandle;
  if (!r || typeof r !== 'object' || typeof r.scorer?.score !== 'function') throw new Error(`input ${input}: expected a REWARD_MODEL (from LoadRewardModel)`);
  return r;
}
