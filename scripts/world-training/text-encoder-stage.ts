// Stage 3 of `npm run train:world`: the text encoder, trained as SD1.5's was made, before and apart from the UNet. A
// tiny CLIP (src/runtime/rewards/tiny-clip.ts) learns contrastively from rendered base-world images and their
// captions, each caption drawn anew every step in a random wording, so that wordings of one picture meet in one place
// and phrases whose pictures share parts ("wearing a hat", "wearing a crown") lie near each other. The text tower
// is then frozen and becomes the model's text_encoder; the image tower is kept for measurements only.
// Positives: a caption counts for every image of the batch it is true of (an under-specified caption fits several).
// Hard negatives (--clip-pairs F): a fraction F of each batch comes as minimal pairs, two scenes alike in everything
// but the class (half the pairs), the activity or a scarf's or balloon's color (a quarter each), so that the contrast
// cannot be won by the object's color and context alone, and the accessory's color word is bound to the accessory.
import fs from 'node:fs';
import path from 'node:path';
import type { ClipTokenizer } from '../../src/runtime/diffusion/tokenizer.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import type { HostTensor } from '../../src/runtime/onnx/tensor.js';
import { toNchw } from '../../src/runtime/rewards/resample.js';
import { TinyClipInit, type TinyClipConfig, tinyClipLossGraph } from '../../src/runtime/rewards/tiny-clip.js';
import { ACTIVITIES, COLORED_ACCESSORY_ACTIVITIES, type Activity, type ObjectClass, SHAPES, type Scene, accessoryColorsFor, renderScenes, sampleScene } from '../../src/runtime/world/index.js';
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
    const nPairs = 2 * Math.floor((B * w.opt.clipPairs) / 2);
    const pairScenes = nPairs > 0 ? minimalPairs(new Rng(w.seed + 303), Math.floor(w.opt.clipImages / 2)) : [];
    const pairImages = renderScenes(pairScenes, RES);
    if (nPairs > 0) log(`text encoder: ${nPairs} of every ${B} in minimal pairs, e.g. "${describe(pairScenes[0], poolRng)}" / "${describe(pairScenes[1], poolRng)}"`);
    const weights = await trainStage({
      name: 'text-clip', workDir: w.workDir, steps: w.opt.clipSteps, batch: B, lr: 2e-3, warmup: 100, weightDecay: 0.05,
      logEvery: w.opt.logEvery, ckptEvery: w.opt.ckptEvery, init: new TinyClipInit(w.seed + 302),
      build: (params) => {
        const { b, loss } = tinyClipLossGraph(cfg, params, B);
        return { graph: b, loss };
      },
      feeds: (step) => {
        const r = new Rng(w.seed * 1_000_003 + 3_000_000 + step);
        // Rows: minimal pairs first (both scenes of a pair side by side), then single scenes from the pool.
        const rows: { scene: Scene; pixels: Float32Array }[] = [];
        for (let i = 0; i < nPairs; i += 2) {
          const p = 2 * r.int(pairScenes.length / 2);
          for (const k of [p, p + 1]) rows.push({ scene: pairScenes[k], pixels: pairImages.data.subarray(k * PER, (k + 1) * PER) });
        }
        while (rows.length < B) {
          const k = r.int(images.count);
          rows.push({ scene: scenes[k], pixels: images.data.subarray(k * PER, (k + 1) * PER) });
        }
        const batch = imageBatch(B, RES, RES, 3);
        rows.forEach((row, i) => batch.data.set(row.pixels, i * PER));
        const captions = rows.map((row) => describe(row.scene, r));
        const matches = new Float32Array(B * B);
        rows.forEach((row, i) => captions.forEach((c, j) => { matches[i * B + j] = i === j || captionHolds(c, row.scene) ? 1 : 0; }));
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

/** `count` pairs of scenes (flat, pair k at 2k and 2k+1) that differ in the class (half the pairs; shapes only, so no
 * plushie body comes along), the activity or the accessory's color (a quarter each), everything else, layout jitter
 * included, the same. */
function minimalPairs(rng: Rng, count: number): Scene[] {
  const out: Scene[] = [];
  while (out.length < 2 * count) {
    const kind = rng.uniform();
    let a: Scene, other: Partial<Scene>;
    if (kind < 0.5) {
      a = sampleScene(rng, { objectClass: SHAPES[rng.int(SHAPES.length)] });
      other = { objectClass: SHAPES.filter((c) => c !== a.objectClass)[rng.int(SHAPES.length - 1)] as ObjectClass, accessoryColor: undefined };
    } else if (kind < 0.75) {
      a = sampleScene(rng);
      other = { activity: ACTIVITIES.filter((x) => x !== a.activity)[rng.int(ACTIVITIES.length - 1)] as Activity, accessoryColor: undefined };
    } else {
      a = sampleScene(rng, { activity: COLORED_ACCESSORY_ACTIVITIES[rng.int(COLORED_ACCESSORY_ACTIVITIES.length)] });
      const colors = accessoryColorsFor(a.color, a.context).filter((c) => c !== a.accessoryColor);
      if (colors.length === 0) continue;
      other = { accessoryColor: colors[rng.int(colors.length)] };
    }
    try {
      out.push(a, sampleScene(rng, { ...a, ...other }, { maxTries: 20 }));
    } catch {
      // The swapped scene does not fit its layout: draw another pair.
    }
  }
  return out;
}
