// The diffusers building blocks the SD UNet and VAE share (ResnetBlock2D, Transformer2DModel with
// BasicTransformerBlock, Attention, Downsample2D, Upsample2D), each taking the diffusers module path as its parameter
// prefix so that checkpoint keys map onto parameters by name. The PyTorch twin is scripts/torch/sd_modules.py.
import type { Sym } from '../onnx/builder.js';
import { attention, conv2d, gelu, groupNorm, type LayerContext, layerNorm, linear, silu } from '../onnx/layers.js';
import * as op from '../onnx/ops/index.js';
import type { ParamSource } from '../onnx/params.js';
import type { HostTensor } from '../onnx/tensor.js';

export interface NormOptions {
  groups: number;
  eps: number;
}

/**
 * ResnetBlock2D (time_embedding_norm 'default', pre-norm, output scale 1): GroupNorm-SiLU-Conv3x3, plus
 * time_emb_proj(SiLU(temb)) per channel when a time embedding is given (the VAE has none), GroupNorm-SiLU-Conv3x3,
 * and the input added back through a 1x1 conv_shortcut when the channel count changes.
 */
export function resnetBlock2D(ctx: LayerContext, prefix: string, x: Sym, temb: Sym | null, outChannels: number, norm: NormOptions): Sym {
  let h = conv2d(ctx, `${prefix}.conv1`, silu(groupNorm(ctx, `${prefix}.norm1`, x, norm.groups, norm.eps)), outChannels, 3, { padding: 1 });
  if (temb) h = op.add(h, op.unsqueeze(linear(ctx, `${prefix}.time_emb_proj`, silu(temb), outChannels), [2, 3]));
  h = conv2d(ctx, `${prefix}.conv2`, silu(groupNorm(ctx, `${prefix}.norm2`, h, norm.groups, norm.eps)), outChannels, 3, { padding: 1 });
  const skip = x.shape[1] !== outChannels ? conv2d(ctx, `${prefix}.conv_shortcut`, x, outChannels, 1) : x;
  return op.add(skip, h);
}

/**
 * diffusers Attention on tokens [B, N, D]: to_q from x, to_k/to_v from the context (cross-attention) or x
 * (self-attention), multi-head softmax(q k^T / sqrt(d_head)) v, then to_out.0. All four projections go through
 * `linear`, so LoRA adapters attach by their diffusers prefix.
 */
export function attentionBlock(ctx: LayerContext, prefix: string, x: Sym, context: Sym | null, heads: number, bias: boolean): Sym {
  const d = x.shape[x.rank - 1];
  const kv = context ?? x;
  const q = linear(ctx, `${prefix}.to_q`, x, d, bias);
  const k = linear(ctx, `${prefix}.to_k`, kv, d, bias);
  const v = linear(ctx, `${prefix}.to_v`, kv, d, bias);
  return linear(ctx, `${prefix}.to_out.0`, attention(q, k, v, heads), d);
}

/** FeedForward with GEGLU: proj to 2 x 4d, value * gelu(gate) (exact gelu), back to d. Keys ff.net.0.proj, ff.net.2. */
export function feedForwardGeglu(ctx: LayerContext, prefix: string, x: Sym): Sym {
  const d = x.shape[x.rank - 1];
  const inner = 4 * d;
  const [value, gate] = op.split(linear(ctx, `${prefix}.net.0.proj`, x, 2 * inner), [inner, inner], -1);
  return linear(ctx, `${prefix}.net.2`, op.mul(value, gelu(gate)), d);
}

/** BasicTransformerBlock (norm_type layer_norm): pre-LayerNorm self-attention, cross-attention, GEGLU, each residual. */
export function basicTransformerBlock(ctx: LayerContext, prefix: string, x: Sym, context: Sym, heads: number, eps = 1e-5): Sym {
  let h = op.add(attentionBlock(ctx, `${prefix}.attn1`, layerNorm(ctx, `${prefix}.norm1`, x, eps), null, heads, false), x);
  h = op.add(attentionBlock(ctx, `${prefix}.attn2`, layerNorm(ctx, `${prefix}.norm2`, h, eps), context, heads, false), h);
  return op.add(feedForwardGeglu(ctx, `${prefix}.ff`, layerNorm(ctx, `${prefix}.norm3`, h, eps)), h);
}

/**
 * Transformer2DModel (continuous input, use_linear_projection false as in SD1.5): GroupNorm (eps 1e-6), 1x1 conv
 * proj_in, the image as H*W tokens through the transformer blocks, back to [B,C,H,W], 1x1 conv proj_out, residual.
 */
export function transformer2D(ctx: LayerContext, prefix: string, x: Sym, context: Sym, o: { heads: number; groups: number; layers: number }): Sym {
  const [b, c, hh, ww] = x.shape;
  let h = conv2d(ctx, `${prefix}.proj_in`, groupNorm(ctx, `${prefix}.norm`, x, o.groups, 1e-6), c, 1);
  h = op.reshape(op.transpose(h, [0, 2, 3, 1]), [b, hh * ww, c]);
  for (let l = 0; l < o.layers; l++) h = basicTransformerBlock(ctx, `${prefix}.transformer_blocks.${l}`, h, context, o.heads);
  h = op.transpose(op.reshape(h, [b, hh, ww, c]), [0, 3, 1, 2]);
  return op.add(conv2d(ctx, `${prefix}.proj_out`, h, c, 1), x);
}

/**
 * The VAE mid-block Attention: GroupNorm over [B,C,H,W], H*W tokens of width C, single-head self-attention with
 * biased to_q/to_k/to_v/to_out.0, back to [B,C,H,W], plus the input (residual_connection).
 */
export function spatialSelfAttention(ctx: LayerContext, prefix: string, x: Sym, norm: NormOptions, heads = 1): Sym {
  const [b, c, hh, ww] = x.shape;
  const h = groupNorm(ctx, `${prefix}.group_norm`, x, norm.groups, norm.eps);
  const tokens = op.transpose(op.reshape(h, [b, c, hh * ww]), [0, 2, 1]);
  const out = attentionBlock(ctx, prefix, tokens, null, heads, true);
  return op.add(op.reshape(op.transpose(out, [0, 2, 1]), [b, c, hh, ww]), x);
}

/**
 * Downsample2D with a conv: 3x3, stride 2. diffusers' padding=0 variant (the VAE encoder) first pads the bottom and
 * right edges by one zero row/column.
 */
export function downsample2D(ctx: LayerContext, prefix: string, x: Sym, padding: number): Sym {
  const input = padding === 0 ? op.pad(x, [0, 0, 0, 0, 0, 0, 1, 1]) : x;
  return conv2d(ctx, `${prefix}.conv`, input, x.shape[1], 3, { stride: 2, padding });
}

/** Upsample2D with a conv: nearest-neighbour x2, then 3x3 conv. */
export function upsample2D(ctx: LayerContext, prefix: string, x: Sym): Sym {
  return conv2d(ctx, `${prefix}.conv`, op.resize(x, [1, 1, 2, 2], 'nearest'), x.shape[1], 3, { padding: 1 });
}

/**
 * Parameter names and shapes of a model without allocating its weights: builds the graph with placeholder tensors
 * (right shape, no data). SD1.5's UNet would otherwise take 3.4 GB just to be counted. The graph built is discarded.
 */
export function recordParamShapes(build: (params: ParamSource) => void): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const empty = new Float32Array(0);
  build({
    tensor(name, shape) {
      shapes.set(name, [...shape]);
      return { dtype: 'float32', shape: [...shape], data: empty };
    },
  });
  return shapes;
}

export function countParams(shapes: Map<string, number[]>): number {
  let n = 0;
  for (const s of shapes.values()) n += s.reduce((a, d) => a * d, 1);
  return n;
}

/** Fresh weights of a model: builds its graph once with `source` (e.g. RandomInit) and keeps every tensor it gave. */
export function initWeights(build: (params: ParamSource) => void, source: ParamSource): Map<string, HostTensor> {
  const weights = new Map<string, HostTensor>();
  build({
    tensor(name, shape, init) {
      const t = source.tensor(name, shape, init);
      weights.set(name, t);
      return t;
    },
  });
  return weights;
}
