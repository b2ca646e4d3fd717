// Reward and metric models: the interfaces, the world's judges (its exact oracle and the trained tiny CLIP), user ONNX
// exports (ImageReward, PickScore, CLIP), the metrics' arithmetic, and one loader that turns a spec into a judge.
import fs from 'node:fs';
import path from 'node:path';
import type { SessionOptions } from '../engine/session.js';
import { WorldOracle } from '../world/oracle/oracle.js';
import { loadOnnxReward } from './onnx-reward.js';
import { TinyClipJudge } from './tiny-clip-judge.js';
import type { AlignmentScorer, ImageEmbedder, Releasable } from './types.js';

export * from './types.js';
export * from './metrics.js';
export { BertTokenizer, type BertEncoding, type BertTokenizerOptions } from './bert-tokenizer.js';
export { ClipOnnx, ImageRewardOnnx, type OnnxRewardModel, loadOnnxReward } from './onnx-reward.js';
export {
  CLIP_MEAN, CLIP_STD, IMAGE_REWARD_MEAN, IMAGE_REWARD_STD, ONNX_REWARD_KINDS, type OnnxRewardKind, type OnnxRewardSettings, readOnnxMetadata,
} from './onnx-reward-settings.js';
export { type ResampleFilter, resampleImages, resizeShorterAndCenterCrop, toNchw } from './resample.js';
export {
  type TinyClipConfig, TinyClipInit, captionMatches, tinyClipConfig, tinyClipConfigFromJson, tinyClipImageGraph, tinyClipLossGraph,
  tinyClipParamShapes, tinyClipTextGraph,
} from './tiny-clip.js';
export { TinyClipJudge, judgeInput } from './tiny-clip-judge.js';

/** A loaded judge: scores (image, prompt) pairs; embeds images when it can; releases its sessions. */
export type RewardModel = AlignmentScorer & Partial<ImageEmbedder> & Releasable & { name: string };

/** The embedded judge's folder under a models folder. */
export const TINY_CLIP_JUDGE_DIR = path.join('embedded', 'judge');

export interface LoadRewardOptions extends SessionOptions {
  /** Where 'tiny-clip' lives (default models/embedded/judge). */
  tinyClipDir?: string;
}

/**
 * 'oracle': the world's exact judge (no embeddings); 'tiny-clip': the trained tiny CLIP of the world (CLIP-T and
 * DINO stand-in); anything else: a folder holding an ONNX reward model (see onnx-reward.ts).
 */
export async function loadRewardModel(spec: string, o: LoadRewardOptions = {}): Promise<RewardModel> {
  if (spec === 'oracle') {
    const oracle = new WorldOracle();
    return { name: 'oracle', score: (images, prompts) => oracle.score(images, prompts) };
  }
  if (spec === 'tiny-clip') {
    const dir = o.tinyClipDir ?? path.join('models', TINY_CLIP_JUDGE_DIR);
    const judge = TinyClipJudge.load(dir, o);
    return Object.assign(judge, { name: 'tiny-clip' });
  }
  if (!fs.existsSync(spec))
    throw new Error(`reward model '${spec}': not 'oracle' or 'tiny-clip', and no such folder (expected a folder with model.onnx)`);
  return loadOnnxReward(spec, o);
}
