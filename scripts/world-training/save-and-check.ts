// The last stage of `npm run train:world`: the diffusers folder, then a quick alignment check through it as users
// load it: DDIM samples of base evaluation captions judged by the world's oracle, with a PNG grid next to the model.
import fs from 'node:fs';
import path from 'node:path';
import { SD15_SCHEDULER_CONFIG } from '../../src/runtime/diffusion/schedule.js';
import { DEFAULT_SAMPLING } from '../../src/runtime/diffusion/sampler.js';
import type { ClipTokenizer } from '../../src/runtime/diffusion/tokenizer.js';
import { imageBatch } from '../../src/runtime/engine/image.js';
import { encodePng } from '../../src/runtime/engine/image-io.js';
import type { HostTensor } from '../../src/runtime/onnx/tensor.js';
import type { ClipTextConfig } from '../../src/runtime/models/clip-text.js';
import { loadSdModel, saveSdModelFolder, type SdModel } from '../../src/runtime/models/sd-model.js';
import { SdPipeline } from '../../src/runtime/models/sd-pipeline.js';
import { WorldOracle, baseEvaluationCaptions, satisfiedByRequirement } from '../../src/runtime/world/index.js';
import { fmt, log, secs, timed } from './io.js';
import type { WorldTraining } from './options.js';
import type { TrainedVae } from './vae-stage.js';

export async function saveAndCheck(
  w: WorldTraining,
  parts: { vae: TrainedVae; unet: Map<string, HostTensor>; text: { config: ClipTextConfig; weights: Map<string, HostTensor> }; tokenizer: ClipTokenizer; tokenizerDir: string },
): Promise<void> {
  await timed(w.times, '5-save-check', async () => {
    const RES = w.res;
    const model: SdModel = {
      source: w.out,
      unet: { config: w.unetConfig, weights: parts.unet },
      vae: { config: parts.vae.config, weights: parts.vae.weights },
      textEncoder: parts.text,
      tokenizer: parts.tokenizer,
      scheduler: { ...SD15_SCHEDULER_CONFIG },
      resolution: RES,
    };
    saveSdModelFolder(w.out, model, parts.tokenizerDir);
    let bytes = 0;
    for (const c of ['unet', 'vae', 'text_encoder'])
      for (const f of fs.readdirSync(path.join(w.out, c))) if (f.endsWith('.safetensors')) bytes += fs.statSync(path.join(w.out, c, f)).size;
    log(`saved the model to ${w.out} (${(bytes / 2 ** 20).toFixed(1)} MiB of safetensors)`);

    // Reload from disk, as users will.
    await checkAlignment(loadSdModel(w.out), w.opt.evalCount, w.out);
  });
}

/**
 * Samples base evaluation captions (a seed no training set uses), judges them with the world's oracle, logs the
 * alignment and what each requirement kept, and writes samples.png and samples.json into `outDir`.
 */
export async function checkAlignment(
  model: SdModel, evalCount: number, outDir: string, sampling = DEFAULT_SAMPLING,
): Promise<{ alignment: number; perRequirement: Record<string, number> }> {
  const RES = model.resolution;
  const pipe = new SdPipeline(model);
  const prompts = baseEvaluationCaptions(evalCount).captions;
  const t0 = performance.now();
  const { images } = await pipe.sample({ prompts, seeds: prompts.map((_, i) => 1000 + i), ...sampling });
  log(`check: sampled ${prompts.length} images (${JSON.stringify(sampling)}) in ${secs(t0).toFixed(1)} s`);
  await pipe.release();
  const results = new WorldOracle().judge(images, prompts);
  const matches = results.filter((r) => r.matches).length;
  const meanScore = results.reduce((a, r) => a + r.score, 0) / results.length;
  // Per-requirement satisfaction, to see what the model misses.
  const byAttr = satisfiedByRequirement(results);
  const attrs = [...byAttr].map(([k, [a, n]]) => `${k} ${a}/${n}`).join(', ');
  log(`check: ${matches}/${results.length} samples match their prompt (alignment ${fmt(matches / results.length, 3)}), mean score ${fmt(meanScore, 3)}; per requirement: ${attrs}`);
  for (let i = 0; i < Math.min(8, prompts.length); i++) log(`  "${prompts[i]}": ${results[i].matches ? 'match' : 'MISS'} (${fmt(results[i].score, 2)})`);

  // Grid: 8 per row, each sample 2x upscaled (nearest), 2 px gaps.
  const cols = 8, rows = Math.ceil(images.count / cols), S = RES * 2, G = 2;
  const W = cols * (S + G) + G, H = rows * (S + G) + G;
  const grid = imageBatch(1, H, W, 3, new Float32Array(H * W * 3).fill(1));
  for (let i = 0; i < images.count; i++) {
    const ox = G + (i % cols) * (S + G), oy = G + Math.floor(i / cols) * (S + G);
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++)
        for (let c = 0; c < 3; c++)
          grid.data[((oy + y) * W + ox + x) * 3 + c] = images.data[((i * RES + (y >> 1)) * RES + (x >> 1)) * 3 + c];
  }
  const gridFile = path.join(outDir, 'samples.png');
  fs.writeFileSync(gridFile, await encodePng(grid));
  fs.writeFileSync(path.join(outDir, 'samples.json'), `${JSON.stringify({ alignment: matches / results.length, meanScore, prompts: prompts.map((p, i) => ({ prompt: p, match: results[i].matches, score: results[i].score })) }, null, 2)}\n`);
  log(`check: grid ${gridFile}, prompts and verdicts in samples.json`);
  return { alignment: matches / results.length, perRequirement: Object.fromEntries([...byAttr].map(([k, [a, n]]) => [k, a / n])) };
}
