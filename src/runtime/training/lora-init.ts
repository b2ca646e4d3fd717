// Fresh LoRA adapters for a UNet: one (down, up) pair per targeted linear layer, named as the graph's LoRA branch
// names them (`<prefix>.lora_down.weight` [rank, in], `<prefix>.lora_up.weight` [out, rank]) and initialized as
// layers.ts documents: down ~ N(0, (1/rank)^2), up = 0, so a fresh adapter leaves the model unchanged.
import { Rng } from '../onnx/random.js';
import type { UNetConfig } from '../models/configs.js';
import { LORA_TARGETS, type LoraWeights } from '../models/sd-pipeline.js';
import { unetParamShapes } from '../models/unet.js';
import { loraNames } from '../onnx/layers.js';
import { initTensor } from '../onnx/params.js';

export type LoraTargets = RegExp | ((prefix: string) => boolean);

/** Named layer sets an adapter can cover (the trainers' `loraTargets`): every attention projection, only the
 * cross-attention ones, where the prompt enters the image, or only their keys and values (the projections of the
 * prompt's tokens, what Custom Diffusion fine-tunes). */
export const LORA_TARGET_SETS = {
  attention: LORA_TARGETS,
  'cross-attention': /\.attn2\.(to_q|to_k|to_v|to_out\.0)$/,
  'cross-attention-kv': /\.attn2\.(to_k|to_v)$/,
} as const;
export type LoraTargetSet = keyof typeof LORA_TARGET_SETS;

const matcher = (t: LoraTargets) => (typeof t === 'function' ? t : (p: string) => t.test(p));

/** Targeted linear layers of a UNet: prefix -> [out, in], in build order. */
export function loraTargetShapes(cfg: UNetConfig, targets: LoraTargets = LORA_TARGETS): Map<string, [number, number]> {
  const is = matcher(targets);
  const out = new Map<string, [number, number]>();
  for (const [name, shape] of unetParamShapes(cfg)) {
    if (!name.endsWith('.weight') || shape.length !== 2) continue;
    const prefix = name.slice(0, -'.weight'.length);
    if (is(prefix)) out.set(prefix, [shape[0], shape[1]]);
  }
  return out;
}

export interface LoraInitOptions {
  rank?: number;
  /** Scale numerator: the branch is multiplied by alpha/rank. Default: the rank (scale 1, diffusers' default). */
  alpha?: number;
  seed?: number;
  targets?: LoraTargets;
}

/** New adapters for every targeted layer, seeded (same seed and config, same adapters). */
export function freshLora(cfg: UNetConfig, o: LoraInitOptions = {}): LoraWeights {
  const rank = o.rank ?? 4;
  if (!(Number.isInteger(rank) && rank >= 1)) throw new Error(`LoRA rank must be an integer >= 1, got ${rank}`);
  const alpha = o.alpha ?? rank;
  if (!(Number.isFinite(alpha) && alpha > 0)) throw new Error(`LoRA alpha must be a number > 0, got ${alpha}`);
  const shapes = loraTargetShapes(cfg, o.targets ?? LORA_TARGETS);
  if (shapes.size === 0) throw new Error('LoRA: no UNet layer matches the targets');
  const rng = new Rng(o.seed ?? 0);
  const weights = new Map<string, ReturnType<typeof initTensor>>();
  for (const [prefix, [outF, inF]] of shapes) {
    const n = loraNames(prefix);
    weights.set(n.down, initTensor([rank, inF], { kind: 'normal', std: 1 / rank }, rng));
    weights.set(n.up, initTensor([outF, rank], { kind: 'zeros' }, rng));
  }
  return { rank, alpha, weights };
}
