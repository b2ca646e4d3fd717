// A tiny CLIP for the generated world: the CLIP-T and DINO stand-ins the embedded model is judged with (the real
// ones, ViT-L/14 CLIP and ViT-S/16 DINO, know nothing of 32-pixel worlds). Two towers map images and captions into one
// L2-normalized space, trained contrastively (InfoNCE with CLIP's learnable logit scale) by scripts/train-judge.ts.
//   image: [B,3,32,32] in [0,1] -> (optionally a full-resolution stem conv) -> three stride-2 stages (32-64-128), each
//          a downsampling 3x3 conv (it still reads every pixel: subjects' markings are a pixel or two wide) plus a
//          pre-activation residual conv (GroupNorm, SiLU) -> GroupNorm, SiLU, global average pool ->
//          visual_projection (no bias);
//   text:  CLIP's text transformer (clipText, transformers' names under `text_model.`) at small width, its pooled
//          <|endoftext|> state -> text_projection (no bias).
// Parameter names follow transformers' CLIPModel where there is a counterpart (text_model.*, visual_projection,
// text_projection, logit_scale); the conv tower's live under vision_model.*.
import { GraphBuilder, type Sym } from '../onnx/builder.js';
import { conv2d, groupNorm, type LayerContext, linear, silu } from '../onnx/layers.js';
import * as op from '../onnx/ops/index.js';
import { type ParamInit, type ParamSource, RandomInit } from '../onnx/params.js';
import { recordParamShapes } from '../models/blocks.js';
import { type ClipTextConfig, clipText } from '../models/clip-text.js';
import type { HostTensor } from '../onnx/tensor.js';

export interface TinyClipConfig {
  /** Square input resolution. */
  imageSize: number;
  /** Channels of an optional full-resolution stem conv (0: none, the default; it costs ~30% more compute). */
  stemChannels: number;
  /** Channels of each stride-2 stage. */
  stageChannels: number[];
  /** GroupNorm groups throughout the image tower. */
  groups: number;
  /** Width of the shared embedding space. */
  embedDim: number;
  /** How the last feature map becomes one vector: 'mean' averages it (where things are is lost), 'flatten' projects
   * every position (a text encoder that must tell "on the left" from "on the right" needs it). */
  pool: 'mean' | 'flatten';
  /** Token sequence length the text tower reads (bos and eos included). */
  textLength: number;
  text: ClipTextConfig;
  /** Upper bound of exp(logit_scale) (CLIP's 100). */
  maxLogitScale: number;
}

export function tinyClipConfig(vocabSize: number, o: Partial<Omit<TinyClipConfig, 'text'>> & { text?: Partial<ClipTextConfig> } = {}): TinyClipConfig {
  const { text, ...rest } = o;
  return {
    imageSize: 32,
    stemChannels: 0,
    stageChannels: [32, 64, 128],
    groups: 8,
    embedDim: 64,
    pool: 'mean',
    textLength: 32,
    maxLogitScale: 100,
    ...rest,
    text: { vocabSize, width: 64, layers: 2, heads: 4, intermediate: 128, maxPositions: 32, eps: 1e-5, act: 'quick_gelu', ...text },
  };
}

/** config.json <-> config (camelCase keys as here; checked so a wrong file fails by name). */
export function tinyClipConfigFromJson(j: Record<string, unknown>, where = 'config.json'): TinyClipConfig {
  const num = (o: Record<string, unknown>, k: string, at: string) => {
    if (typeof o[k] !== 'number') throw new Error(`${where}: '${at}${k}' is missing or not a number`);
    return o[k] as number;
  };
  const t = j.text as Record<string, unknown> | undefined;
  if (!t || typeof t !== 'object') throw new Error(`${where}: 'text' (the text tower's config) is missing`);
  if (!Array.isArray(j.stageChannels) || j.stageChannels.some((c) => typeof c !== 'number')) throw new Error(`${where}: 'stageChannels' must be an array of numbers`);
  const act = t.act ?? 'quick_gelu';
  const pool = j.pool ?? 'mean';
  if (pool !== 'mean' && pool !== 'flatten') throw new Error(`${where}: 'pool' must be mean or flatten`);
  if (act !== 'quick_gelu' && act !== 'gelu') throw new Error(`${where}: 'text.act' must be quick_gelu or gelu`);
  return {
    imageSize: num(j, 'imageSize', ''), stemChannels: num(j, 'stemChannels', ''), stageChannels: j.stageChannels as number[],
    groups: num(j, 'groups', ''), embedDim: num(j, 'embedDim', ''), pool, textLength: num(j, 'textLength', ''),
    maxLogitScale: num(j, 'maxLogitScale', ''),
    text: {
      vocabSize: num(t, 'vocabSize', 'text.'), width: num(t, 'width', 'text.'), layers: num(t, 'layers', 'text.'),
      heads: num(t, 'heads', 'text.'), intermediate: num(t, 'intermediate', 'text.'), maxPositions: num(t, 'maxPositions', 'text.'),
      eps: num(t, 'eps', 'text.'), act,
    },
  };
}

/** CLIP's initial temperature: logit_scale = ln(1/0.07). */
export const INITIAL_LOGIT_SCALE = Math.log(1 / 0.07);

/** Fresh weights: seeded random init, with logit_scale at CLIP's starting value. */
export class TinyClipInit implements ParamSource {
  private readonly rng: RandomInit;
  constructor(seed = 0) {
    this.rng = new RandomInit(seed);
  }
  tensor(name: string, shape: number[], init: ParamInit): HostTensor {
    if (name === 'logit_scale') return { dtype: 'float32', shape, data: Float32Array.of(INITIAL_LOGIT_SCALE) };
    return this.rng.tensor(name, shape, init);
  }
}

function l2normalize(x: Sym): Sym {
  return op.div(x, op.sqrt(op.add(op.reduceSum(op.mul(x, x), [x.rank - 1]), 1e-12)));
}

/** pixel_values [B,3,S,S] in [0,1] -> unit image embeddings [B, embedDim]. */
export function tinyClipImage(ctx: LayerContext, cfg: TinyClipConfig, pixels: Sym): Sym {
  const [, c, h, w] = pixels.shape;
  if (pixels.rank !== 4 || c !== 3 || h !== cfg.imageSize || w !== cfg.imageSize)
    throw new Error(`tiny CLIP: pixel_values must be [B, 3, ${cfg.imageSize}, ${cfg.imageSize}], got [${pixels.shape.join(', ')}]`);
  const P = 'vision_model';
  let x = op.sub(op.mul(pixels, 2), 1);
  if (cfg.stemChannels > 0) x = silu(groupNorm(ctx, `${P}.stem_norm`, conv2d(ctx, `${P}.stem`, x, cfg.stemChannels, 3, { padding: 1 }), cfg.groups));
  cfg.stageChannels.forEach((ch, i) => {
    const p = `${P}.stages.${i}`;
    x = conv2d(ctx, `${p}.down`, x, ch, 3, { stride: 2, padding: 1 });
    const r = conv2d(ctx, `${p}.conv`, silu(groupNorm(ctx, `${p}.norm`, x, cfg.groups)), ch, 3, { padding: 1 });
    x = op.add(x, r);
  });
  x = silu(groupNorm(ctx, `${P}.post_norm`, x, cfg.groups));
  const [n, ch, fh, fw] = x.shape;
  const pooled = cfg.pool === 'flatten' ? op.reshape(x, [n, ch * fh * fw]) : op.reduceMean(x, [2, 3], false);
  return l2normalize(linear(ctx, 'visual_projection', pooled, cfg.embedDim, false));
}

/** input_ids [B, textLength] int64 -> unit text embeddings [B, embedDim] (pooled at the first <|endoftext|>). */
export function tinyClipText(ctx: LayerContext, cfg: TinyClipConfig, inputIds: Sym): Sym {
  const { pooled } = clipText(ctx, cfg.text, inputIds);
  return l2normalize(linear(ctx, 'text_projection', pooled, cfg.embedDim, false));
}

/** The learnable temperature, exp(logit_scale) capped at maxLogitScale (CLIP clamps the same way). */
export function tinyClipLogitScale(ctx: LayerContext, cfg: TinyClipConfig): Sym {
  const s = ctx.b.param('logit_scale', ctx.params.tensor('logit_scale', [], { kind: 'zeros' }));
  return op.exp(op.minimum(s, Math.log(cfg.maxLogitScale)));
}

/** Inference graph: pixel_values [batch,3,S,S] -> image_embeds [batch, D]. */
export function tinyClipImageGraph(cfg: TinyClipConfig, params: ParamSource, batch: number): GraphBuilder {
  const b = new GraphBuilder();
  const px = b.input('pixel_values', [batch, 3, cfg.imageSize, cfg.imageSize]);
  b.output(tinyClipImage({ b, params }, cfg, px), 'image_embeds');
  return b;
}

/** Inference graph: input_ids [batch, textLength] -> text_embeds [batch, D]. */
export function tinyClipTextGraph(cfg: TinyClipConfig, params: ParamSource, batch: number): GraphBuilder {
  const b = new GraphBuilder();
  const ids = b.input('input_ids', [batch, cfg.textLength], 'int64');
  b.output(tinyClipText({ b, params }, cfg, ids), 'text_embeds');
  return b;
}

/**
 * Training graph (before differentiation): pixel_values [B,3,S,S], input_ids [B,L], matches [B,B] -> `loss`, and
 * `logits` [B,B] (image i against caption j). matches[i][j] is 1 when caption j is true of image i (its own caption
 * always is), else 0: under-specified captions ("a star") are true of several images, and a subject's identifier
 * caption is true of the subject but not of its unmarked twin, while the twin's generic caption is true of both.
 * Plain CLIP is matches = identity. Loss: the mean of the image->text cross-entropy (targets: each row's matches,
 * normalized) and the text->image one (each column's), i.e. InfoNCE with multiple positives.
 */
export function tinyClipLossGraph(cfg: TinyClipConfig, params: ParamSource, batch: number): { b: GraphBuilder; loss: string; logits: string } {
  const b = new GraphBuilder();
  const ctx = { b, params };
  const px = b.input('pixel_values', [batch, 3, cfg.imageSize, cfg.imageSize]);
  const ids = b.input('input_ids', [batch, cfg.textLength], 'int64');
  const matches = b.input('matches', [batch, batch]);
  const img = tinyClipImage(ctx, cfg, px);
  const txt = tinyClipText(ctx, cfg, ids);
  const logits = op.mul(op.matmulT(img, txt, false, true), tinyClipLogitScale(ctx, cfg));
  const ce = (axis: number) => {
    const targets = op.div(matches, op.reduceSum(matches, [axis]));
    return op.neg(op.mean(op.reduceSum(op.mul(targets, op.logSoftmax(logits, axis)), [axis], false)));
  };
  const loss = op.mul(op.add(ce(1), ce(0)), 0.5);
  return { b, loss: b.output(loss, 'loss').name, logits: b.output(logits, 'logits').name };
}

/** The matches matrix when only the captions are known: caption j is true of image i when it is image i's caption. */
export function captionMatches(captions: readonly string[]): Float32Array {
  const n = captions.length;
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[i * n + j] = captions[i] === captions[j] ? 1 : 0;
  return m;
}

/** Every parameter name and shape (no weights allocated). */
export function tinyClipParamShapes(cfg: TinyClipConfig): Map<string, number[]> {
  return recordParamShapes((params) => {
    const b = new GraphBuilder();
    const ctx = { b, params };
    tinyClipImage(ctx, cfg, b.input('pixel_values', [1, 3, cfg.imageSize, cfg.imageSize]));
    tinyClipText(ctx, cfg, b.input('input_ids', [1, cfg.textLength], 'int64'));
    tinyClipLogitScale(ctx, cfg);
  });
}
