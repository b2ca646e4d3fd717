// The engine's reference network: the small SD-style UNet of scripts/torch/mini_unet.py (its PyTorch twin), built
// with the project's graph builder under the same parameter names as torch's state_dict, so PyTorch weights and
// gradients compare one to one. Used by the PyTorch fixture test and `npm run bench -- train-step`.
import type { Sym } from '../onnx/builder.js';
import { concat, resize } from '../onnx/ops/index.js';
import * as op from '../onnx/ops/index.js';
import { attention, conv2d, gelu, groupNorm, type LayerContext, layerNorm, linear, silu, timestepEmbedding } from '../onnx/layers.js';

export interface MiniUNetConfig {
  c: number;
  temb: number;
  ctx: number;
  heads: number;
  groups: number;
}

export const MINI_UNET_BENCH: MiniUNetConfig = { c: 64, temb: 256, ctx: 64, heads: 4, groups: 32 };

function res(m: LayerContext, cfg: MiniUNetConfig, p: string, x: Sym, te: Sym, co: number): Sym {
  let h = conv2d(m, `${p}.c1`, silu(groupNorm(m, `${p}.n1`, x, cfg.groups)), co, 3, { padding: 1 });
  h = op.add(h, op.unsqueeze(linear(m, `${p}.te`, silu(te), co), [2, 3]));
  h = conv2d(m, `${p}.c2`, silu(groupNorm(m, `${p}.n2`, h, cfg.groups)), co, 3, { padding: 1 });
  const skip = x.shape[1] !== co ? conv2d(m, `${p}.sk`, x, co, 1) : x;
  return op.add(skip, h);
}

function attn(m: LayerContext, cfg: MiniUNetConfig, p: string, x: Sym, c?: Sym): Sym {
  const d = x.shape[2];
  const kv = c ?? x;
  const q = linear(m, `${p}.q`, x, d, false);
  const k = linear(m, `${p}.k`, kv, d, false);
  const v = linear(m, `${p}.v`, kv, d, false);
  return linear(m, `${p}.o`, attention(q, k, v, cfg.heads), d);
}

function transformer(m: LayerContext, cfg: MiniUNetConfig, p: string, x: Sym, ctx: Sym): Sym {
  const [b, ch, hh, ww] = x.shape;
  const tokens = op.reshape(op.transpose(groupNorm(m, `${p}.gn`, x, cfg.groups, 1e-6), [0, 2, 3, 1]), [b, hh * ww, ch]);
  let h = linear(m, `${p}.pi`, tokens, ch);
  h = op.add(h, attn(m, cfg, `${p}.a1`, layerNorm(m, `${p}.l1`, h)));
  h = op.add(h, attn(m, cfg, `${p}.a2`, layerNorm(m, `${p}.l2`, h), ctx));
  const [u, g] = op.split(linear(m, `${p}.ff1`, layerNorm(m, `${p}.l3`, h), 8 * ch), [4 * ch, 4 * ch], -1);
  h = op.add(h, linear(m, `${p}.ff2`, op.mul(u, gelu(g)), ch));
  const out = op.transpose(op.reshape(linear(m, `${p}.po`, h, ch), [b, hh, ww, ch]), [0, 3, 1, 2]);
  return op.add(out, x);
}

/** eps(sample [B,4,H,W], timestep [B] int64, context [B,77,ctx]) -> [B,4,H,W]. */
export function miniUNet(m: LayerContext, cfg: MiniUNetConfig, sample: Sym, timestep: Sym, context: Sym): Sym {
  const te = linear(m, 't2', silu(linear(m, 't1', timestepEmbedding(timestep, cfg.c), cfg.temb)), cfg.temb);
  const h1 = res(m, cfg, 'r1', conv2d(m, 'cin', sample, cfg.c, 3, { padding: 1 }), te, cfg.c);
  let h = res(m, cfg, 'r2', conv2d(m, 'down', h1, cfg.c, 3, { stride: 2, padding: 1 }), te, cfg.c);
  h = res(m, cfg, 'r3', transformer(m, cfg, 'xf', h, context), te, cfg.c);
  h = conv2d(m, 'up', resize(h, [1, 1, 2, 2], 'nearest'), cfg.c, 3, { padding: 1 });
  h = res(m, cfg, 'r4', concat([h, h1], 1), te, cfg.c);
  return conv2d(m, 'cout', silu(groupNorm(m, 'nout', h, cfg.groups)), 4, 3, { padding: 1 });
}
