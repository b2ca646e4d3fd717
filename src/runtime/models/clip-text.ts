// CLIP's text transformer as transformers' CLIPTextModel computes it (SD1.5's text_encoder), under transformers'
// parameter names (`text_model.embeddings.token_embedding.weight`, `text_model.encoder.layers.0.self_attn.q_proj.
// weight`, ..., `text_model.final_layer_norm.weight`). PyTorch reference: scripts/torch/clip_text.py.
import { GraphBuilder, type Sym } from '../onnx/builder.js';
import { recordParamShapes } from './blocks.js';
import { attention, gelu, type LayerContext, layerNorm, linear, quickGelu } from '../onnx/layers.js';
import * as op from '../onnx/ops/index.js';
import { A } from '../onnx/ir.js';

export interface ClipTextConfig {
  vocabSize: number;
  width: number;
  layers: number;
  heads: number;
  intermediate: number;
  maxPositions: number;
  eps: number;
  /** MLP activation: CLIP ViT-L/14 (SD1.5) uses quick_gelu; OpenCLIP ViT-H (SD2) uses gelu. */
  act: 'quick_gelu' | 'gelu';
}

/** openai/clip-vit-large-patch14's text tower: SD1.5's text encoder (123,060,480 parameters). */
export const CLIP_TEXT_SD15: ClipTextConfig = {
  vocabSize: 49408, width: 768, layers: 12, heads: 12, intermediate: 3072, maxPositions: 77, eps: 1e-5, act: 'quick_gelu',
};

/** A small text encoder over a given vocabulary (the embedded default model, tests). */
export function clipTextTiny(vocabSize: number): ClipTextConfig {
  return { vocabSize, width: 32, layers: 2, heads: 4, intermediate: 64, maxPositions: 77, eps: 1e-5, act: 'quick_gelu' };
}

/** The config of a transformers CLIPTextConfig (text_encoder/config.json). */
export function clipTextConfigFromJson(c: Record<string, unknown>): ClipTextConfig {
  const num = (k: string, fallback?: number) => {
    const v = c[k] ?? fallback;
    if (typeof v !== 'number') throw new Error(`text encoder config: '${k}' is missing or not a number`);
    return v;
  };
  const act = c.hidden_act ?? 'quick_gelu';
  if (act !== 'quick_gelu' && act !== 'gelu') throw new Error(`text encoder config: hidden_act '${String(act)}' is not supported (quick_gelu, gelu)`);
  return {
    vocabSize: num('vocab_size'), width: num('hidden_size'), layers: num('num_hidden_layers'),
    heads: num('num_attention_heads'), intermediate: num('intermediate_size'),
    maxPositions: num('max_position_embeddings', 77), eps: num('layer_norm_eps', 1e-5), act,
  };
}

export interface ClipTextOptions {
  /**
   * Run all but the last `clipSkip` layers, then final_layer_norm (diffusers' clip_skip, A1111's "CLIP skip" minus
   * one). `pooled` then comes from that output too.
   */
  clipSkip?: number;
}

export interface ClipTextOutputs {
  /** final_layer_norm of the last layer's output, [B, L, width]: the UNet's encoder_hidden_states. */
  lastHidden: Sym;
  /** lastHidden at each row's first <|endoftext|> (argmax of input_ids, the highest id), [B, width]. */
  pooled: Sym;
}

const P = 'text_model';

/** transformers' causal mask: float32's lowest value above the diagonal (every row keeps its diagonal), [1,1,L,L]. */
function causalMask(ctx: LayerContext, len: number): Sym {
  const data = new Float32Array(len * len);
  const lowest = -3.4028234663852886e38;
  for (let i = 0; i < len; i++) for (let j = i + 1; j < len; j++) data[i * len + j] = lowest;
  return ctx.b.constant({ dtype: 'float32', shape: [1, 1, len, len], data });
}

function encoderLayer(ctx: LayerContext, cfg: ClipTextConfig, p: string, h: Sym, mask: Sym): Sym {
  const d = cfg.width;
  const x = layerNorm(ctx, `${p}.layer_norm1`, h, cfg.eps);
  const q = linear(ctx, `${p}.self_attn.q_proj`, x, d);
  const k = linear(ctx, `${p}.self_attn.k_proj`, x, d);
  const v = linear(ctx, `${p}.self_attn.v_proj`, x, d);
  h = op.add(h, linear(ctx, `${p}.self_attn.out_proj`, attention(q, k, v, cfg.heads, mask), d));
  const act = cfg.act === 'gelu' ? gelu : quickGelu;
  const m = act(linear(ctx, `${p}.mlp.fc1`, layerNorm(ctx, `${p}.layer_norm2`, h, cfg.eps), cfg.intermediate));
  return op.add(h, linear(ctx, `${p}.mlp.fc2`, m, d));
}

/** input_ids [B, L] int64 (L <= maxPositions, 77 for SD) -> last hidden state and pooled output. */
export function clipText(ctx: LayerContext, cfg: ClipTextConfig, inputIds: Sym, o: ClipTextOptions = {}): ClipTextOutputs {
  const b = ctx.b;
  if (inputIds.rank !== 2) throw new Error(`clipText: input_ids must be [batch, length], got [${inputIds.shape.join(', ')}]`);
  if (inputIds.dtype !== 'int64' && inputIds.dtype !== 'int32') throw new Error(`clipText: input_ids must be int64, got ${inputIds.dtype}`);
  const [bsz, len] = inputIds.shape;
  if (len > cfg.maxPositions) throw new Error(`clipText: ${len} tokens, the model has ${cfg.maxPositions} positions`);
  const skip = o.clipSkip ?? 0;
  if (!Number.isInteger(skip) || skip < 0 || skip >= cfg.layers) throw new Error(`clipText: clipSkip must be an integer in [0, ${cfg.layers - 1}], got ${skip}`);
  const d = cfg.width;

  const tokName = `${P}.embeddings.token_embedding.weight`;
  const posName = `${P}.embeddings.position_embedding.weight`;
  // Gather: its gradient (scatter-add into the table) trains token embeddings, as textual inversion does.
  const tokens = b.param(tokName, ctx.params.tensor(tokName, [cfg.vocabSize, d], { kind: 'normal', std: 0.02 }));
  const positions = b.param(posName, ctx.params.tensor(posName, [cfg.maxPositions, d], { kind: 'normal', std: 0.02 }));
  const pos = len === cfg.maxPositions ? positions : op.slice(positions, [0], [len], [0]);
  let h = op.add(op.gather(tokens, inputIds, 0), pos);

  const mask = causalMask(ctx, len);
  for (let i = 0; i < cfg.layers - skip; i++) h = encoderLayer(ctx, cfg, `${P}.encoder.layers.${i}`, h, mask);
  const lastHidden = layerNorm(ctx, `${P}.final_layer_norm`, h, cfg.eps);

  // Pooled: row b's hidden state at argmax(input_ids[b]) (first maximum: the first <|endoftext|>, CLIP's highest id),
  // as transformers does for CLIP configs with eos_token_id 2 (SD1.5's). Gather from the [B*L, D] view at b*L + argmax.
  const ids32 = op.cast(inputIds, 'int32');
  const eosAt = b.op1('ArgMax', [ids32], { axis: A.i(1), keepdims: A.i(0), select_last_index: A.i(0) });
  const rowStart = b.constant({ dtype: 'int64', shape: [bsz], data: BigInt64Array.from({ length: bsz }, (_, i) => BigInt(i * len)) });
  const pooled = op.gather(op.reshape(lastHidden, [bsz * len, d]), op.add(eosAt, rowStart), 0);
  return { lastHidden, pooled };
}

/** Every parameter name and shape of the text encoder, without allocating weights. */
export function clipTextParamShapes(cfg: ClipTextConfig): Map<string, number[]> {
  return recordParamShapes((params) => {
    const b = new GraphBuilder();
    clipText({ b, params }, cfg, b.input('input_ids', [1, cfg.maxPositions], 'int64'));
  });
}
