// Neural-network layers as compositions of ops, with parameters named the way diffusers and torch name them
// (`<prefix>.weight`, `<prefix>.bias`), so checkpoints map onto models by rule.
import type { GraphBuilder, Sym } from './builder.js';
import { A } from './ir.js';
import * as op from './ops/index.js';
import type { ParamSource } from './params.js';

export interface LayerContext {
  b: GraphBuilder;
  params: ParamSource;
  /** Low-rank adapters on chosen linear layers (attention projections, for DreamBooth-LoRA and DDPO). */
  lora?: LoraConfig;
}

/**
 * LoRA: W' = W + strength * (alpha/rank) * up @ down on each targeted linear layer, computed as a side branch so the
 * base weight stays untouched and only `<prefix>.lora_down.weight` [rank, in] and `<prefix>.lora_up.weight`
 * [out, rank] train. Fresh adapters: down ~ N(0, (1/rank)^2), up = 0, so a new adapter changes nothing.
 */
export interface LoraConfig {
  rank: number;
  alpha: number;
  /** Whether the linear layer with this parameter prefix gets an adapter. */
  targets: (prefix: string) => boolean;
  /** A scalar input multiplying every adapter's output (the LoRA strength users set); 1 when absent. */
  strength?: Sym;
  /** Where adapter weights come from (their own source: random init, or a loaded LoRA file). */
  params: ParamSource;
}

/** Parameter names of an adapter, and a test for them (to choose what trains). */
export const loraNames = (prefix: string) => ({ down: `${prefix}.lora_down.weight`, up: `${prefix}.lora_up.weight` });
export const isLoraParam = (name: string) => name.endsWith('.lora_down.weight') || name.endsWith('.lora_up.weight');

function weight(ctx: LayerContext, name: string, shape: number[], init: Parameters<ParamSource['tensor']>[2]): Sym {
  return ctx.b.param(name, ctx.params.tensor(name, shape, init));
}

/** torch.nn.Linear: y = x W^T + b over the last axis, W stored [out, in]. */
export function linear(ctx: LayerContext, prefix: string, x: Sym, outFeatures: number, bias = true): Sym {
  const inF = x.shape[x.rank - 1];
  const w = weight(ctx, `${prefix}.weight`, [outFeatures, inF], { kind: 'fanIn', fanIn: inF });
  const bv = bias ? weight(ctx, `${prefix}.bias`, [outFeatures], { kind: 'fanIn', fanIn: inF }) : null;
  const y = linearWith(x, w, bv);
  const lora = ctx.lora;
  if (!lora?.targets(prefix)) return y;
  const names = loraNames(prefix);
  const down = ctx.b.param(names.down, lora.params.tensor(names.down, [lora.rank, inF], { kind: 'normal', std: 1 / lora.rank }));
  const up = ctx.b.param(names.up, lora.params.tensor(names.up, [outFeatures, lora.rank], { kind: 'zeros' }));
  let branch = op.mul(linearWith(linearWith(x, down, null), up, null), lora.alpha / lora.rank);
  if (lora.strength) branch = op.mul(branch, lora.strength);
  return op.add(y, branch);
}

/** y = x W^T + b with given weight symbols (Gemm on a 2-D view: one well-tuned kernel, one simple gradient). */
export function linearWith(x: Sym, w: Sym, bias: Sym | null): Sym {
  const inF = x.shape[x.rank - 1];
  const lead = x.shape.slice(0, -1);
  const x2 = op.reshape(x, [-1, inF]);
  const y = op.gemm(x2, w, bias, { transB: true });
  return op.reshape(y, [...lead, w.shape[0]]);
}

/** torch.nn.Conv2d with square kernel. */
export function conv2d(ctx: LayerContext, prefix: string, x: Sym, outChannels: number, kernel: number, o: { stride?: number; padding?: number; bias?: boolean } = {}): Sym {
  const inC = x.shape[1];
  const fanIn = inC * kernel * kernel;
  const w = weight(ctx, `${prefix}.weight`, [outChannels, inC, kernel, kernel], { kind: 'fanIn', fanIn });
  const bv = o.bias === false ? null : weight(ctx, `${prefix}.bias`, [outChannels], { kind: 'fanIn', fanIn });
  const p = o.padding ?? 0, s = o.stride ?? 1;
  return op.conv(x, w, bv, { strides: [s, s], pads: [p, p, p, p] });
}

/**
 * torch.nn.GroupNorm: LayerNormalization over each group's [C/G*H*W] values of [N, G, C/G*H*W] (unit affine), then the
 * per-channel affine. LayerNormalization rather than the InstanceNormalization torch exports: it also outputs the mean
 * and 1/sigma, which the gradient then reuses instead of recomputing them in three more passes over the activations.
 */
export function groupNorm(ctx: LayerContext, prefix: string, x: Sym, groups: number, eps = 1e-5): Sym {
  const [n, c] = x.shape;
  if (c % groups !== 0) throw new Error(`${prefix}: ${c} channels do not split into ${groups} groups`);
  const gamma = weight(ctx, `${prefix}.weight`, [c], { kind: 'ones' });
  const beta = weight(ctx, `${prefix}.bias`, [c], { kind: 'zeros' });
  const b = x.b;
  const grouped = op.reshape(x, [n, groups, -1]);
  const len = grouped.shape[2];
  const ones = b.constant({ dtype: 'float32', shape: [len], data: new Float32Array(len).fill(1) });
  const zeros = b.constant({ dtype: 'float32', shape: [len], data: new Float32Array(len) });
  const [xn] = b.op('LayerNormalization', [grouped, ones, zeros], { axis: A.i(2), epsilon: A.f(eps) }, 3);
  const bshape = [c, ...Array(x.rank - 2).fill(1)];
  return op.add(op.mul(op.reshape(xn, [...x.shape]), op.reshape(gamma, bshape)), op.reshape(beta, bshape));
}

/** torch.nn.LayerNorm over the last axis (ONNX LayerNormalization, opset 17). */
export function layerNorm(ctx: LayerContext, prefix: string, x: Sym, eps = 1e-5): Sym {
  const d = x.shape[x.rank - 1];
  const gamma = weight(ctx, `${prefix}.weight`, [d], { kind: 'ones' });
  const beta = weight(ctx, `${prefix}.bias`, [d], { kind: 'zeros' });
  return op.layerNormOp(x, gamma, beta, eps, -1);
}

export function silu(x: Sym): Sym {
  return op.mul(x, op.sigmoid(x));
}

/** Exact GELU: 0.5 x (1 + erf(x / sqrt 2)). */
export function gelu(x: Sym): Sym {
  return op.mul(op.mul(x, 0.5), op.add(op.erf(op.mul(x, Math.SQRT1_2)), 1));
}

/** CLIP's quick_gelu: x sigmoid(1.702 x). */
export function quickGelu(x: Sym): Sym {
  return op.mul(x, op.sigmoid(op.mul(x, 1.702)));
}

/**
 * Multi-head scaled dot-product attention on [B, N, D] queries and [B, M, D] keys/values, with an optional additive
 * mask broadcastable to [B, H, N, M]. Scores use FusedMatMul (transB, alpha = 1/sqrt(d)): no explicit transpose of K.
 */
export function attention(q: Sym, k: Sym, v: Sym, heads: number, mask?: Sym): Sym {
  const [bsz, n, d] = q.shape;
  const m = k.shape[1];
  if (d % heads !== 0) throw new Error(`attention: width ${d} does not split into ${heads} heads`);
  const hd = d / heads;
  const split = (t: Sym, len: number) => op.transpose(op.reshape(t, [bsz, len, heads, hd]), [0, 2, 1, 3]);
  let scores = op.matmulT(split(q, n), split(k, m), false, true, 1 / Math.sqrt(hd));
  if (mask) scores = op.add(scores, mask);
  const out = op.matmul(op.softmax(scores, -1), split(v, m));
  return op.reshape(op.transpose(out, [0, 2, 1, 3]), [bsz, n, d]);
}

/** Sinusoidal timestep embedding [sin | cos] with diffusers' default frequencies (flip_sin_to_cos=false, shift 0). */
export function timestepEmbedding(t: Sym, dim: number, maxPeriod = 10000, flipSinToCos = false, downscaleFreqShift = 0): Sym {
  const half = dim / 2;
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++) freqs[i] = Math.exp((-Math.log(maxPeriod) * i) / (half - downscaleFreqShift));
  const f = t.b.constant({ dtype: 'float32', shape: [1, half], data: freqs });
  const a = op.mul(op.unsqueeze(op.cast(t, 'float32'), [1]), f);
  const parts = flipSinToCos ? [op.cos(a), op.sin(a)] : [op.sin(a), op.cos(a)];
  return op.concat(parts, -1);
}
