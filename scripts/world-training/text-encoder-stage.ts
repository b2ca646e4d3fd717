// Stage 3 of `npm run train:world`: the text encoder, trained as SD1.5's was made, before and apart from the UNet. A
// tiny CLIP (src/runtime/rewards/tiny-clip.ts) learns contrastively from rendered base-world images and their
// captions, each caption drawn anew every step in a random wording, so that wordings of one picture meet in one place
// and phrases whose pictures share parts ("wearing a hat", "wearing a crown") lie near each other. The text tower
// is then frozen and becomes the model's text_encoder; the image tower is kept for measurements only.
// Positives: a caption counts for every image of the batch it is true of (an under-specified caption fits several).
import fs from 'node:fs';
import path from 'node:path';
import type { ClipTokenizer } from '../../src/runtime/diffusion/tokenizer.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import type { HostTensor } from '../../src/runtime/onnx/tensor.js';
import { toNchw } from '../../src/runtime/rewards/resample.js';
import { TinyClipInit, type TinyClipConfig, tinyClipLossGraph } from '../../src/runtime/rewards/tiny-clip.js';
import { type Scene, renderScenes, sampleScene } from '../../src/runtime/world/index.js';
import { imageBatch } from '../../src/runtime/engine/image.js';
import { captionHolds } from './caption-truth.js';
import { loadWeights, log, saveWeights, secs, timed } from './io.js';
import type { WorldTraining } from './options.js';
import { trainStage } from './train-stage.js';

/** A caption for a scene, in a wording drawn with `rng`. */
export type Describe = (scene: Scene, rng: Rng) => string;

export interface TextClip {
  config: TinyClipConfig;
  /** Both towers (text_model.*, vision_model.*, the projections, logit_scale). */
  weights: Map<string, HostTensor>;
}

/** The text tower's weights under transformers' CLIPTextModel names: the diffusers text_encoder. */
export function textEncoderWeights(clip: TextClip): Map<string, HostTensor> {
  return new Map([...clip.weights].filter(([k]) => k.startsWith('text_model.')));
}

export async function trainTextClip(w: WorldTraining, cfg: TinyClipConfig, tokenizer: ClipTokenizer, describe: Describe): Promise<TextClip> {
  const file = path.join(w.workDir, 'text-clip.safetensors');
  return timed(w.times, '3-text-encoder', async () => {
    if (fs.existsSync(file)) {
      log(`text encoder: done earlier (${file})`);
      return { config: cfg, weights: loadWeights(file).weights };
    }
    const t0 = performance.now();
    const poolRng = new Rng(w.seed + 301);
    const scenes = Array.from({ length: w.opt.clipImages }, () => sampleScene(poolRng));
    const images = renderScenes(scenes, w.res);
    log(`text encoder: rendered ${images.count} scenes in ${secs(t0).toFixed(1)} s; e.g. "${describe(scenes[0], poolRng)}", "${describe(scenes[0], poolRng)}"`);
    const B = w.opt.clipBatch, RES = w.res, L = cfg.textLength;
    const PER = RES * RES * 3;
    const weights = await trainStage({
      name: 'text-clip', workDir: w.workDir, steps: w.opt.clipSteps, batch: B, lr: 2e-3, warmup: 100, weightDecay: 0.05,
      logEvery: w.opt.logEvery, ckptEvery: w.opt.ckptEvery, init: new TinyClipInit(w.seed + 302),
      build: (params) => {
        const { b, loss } = tinyClipLossGraph(cfg, params, B);
        return { graph: b, loss };
      },
      feeds: (step) => {
        const r = new Rng(w.seed * 1_000_003 + 3_000_000 + step);
        const rows = Array.from({ length: B }, () => r.int(images.count));
        const batch = imageBatch(B, RES, RES, 3);
        rows.forEach((k, i) => batch.data.set(images.data.subarray(k * PER, (k + 1) * PER), i * PER));
        const captions = rows.map((k) => describe(scenes[k], r));
        const matches = new Float32Array(B * B);
        rows.forEach((k, i) => captions.forEach((c, j) => { matches[i * B + j] = i === j || captionHolds(c, scenes[k]) ? 1 : 0; }));
        return {
          pixel_values: { dtype: 'float32', shape: [B, 3, RES, RES], data: toNchw(batch) },
          input_ids: { dtype: 'int64', shape: [B, L], data: tokenizer.encodeBatch(captions, { length: L }) },
          matches: { dtype: 'float32', shape: [B, B], data: matches },
        };
      },
    });
    saveWeights(file, weights);
    return { config: cfg, weights };
  });
}
