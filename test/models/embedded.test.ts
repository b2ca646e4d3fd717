// The shipped embedded model: it loads from models/embedded, reproduces the images recorded when it was trained
// (scripts/record-embedded-fixture.ts), and, in a quick version of `npm run bench -- world`, draws what captions ask.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DEFAULT_SAMPLING } from '../../src/runtime/diffusion/sampler.js';
import { openSafetensors } from '../../src/runtime/engine/safetensors.js';
import { loadSdModel } from '../../src/runtime/models/sd-model.js';
import { SdPipeline } from '../../src/runtime/models/sd-pipeline.js';
import { baseEvaluationCaptions, matchesCore, WorldOracle } from '../../src/runtime/world/index.js';

const MODEL = path.join(import.meta.dirname, '../../models/embedded');
const FIXTURE = path.join(import.meta.dirname, '../fixtures/embedded/recorded.safetensors');

test('the shipped weights are safetensors under 25 MB in all', () => {
  let bytes = 0;
  for (const c of ['unet', 'vae', 'text_encoder', 'judge'])
    for (const f of fs.readdirSync(path.join(MODEL, c))) if (f.endsWith('.safetensors')) bytes += fs.statSync(path.join(MODEL, c, f)).size;
  assert.ok(bytes < 25 * 2 ** 20, `${(bytes / 2 ** 20).toFixed(1)} MiB`);
});

test('the embedded model reproduces its recorded images for fixed seeds', async () => {
  const st = openSafetensors(FIXTURE);
  const recorded = st.read('images').data as Float32Array;
  const prompts = JSON.parse(st.metadata.prompts) as string[];
  const seeds = JSON.parse(st.metadata.seeds) as number[];
  st.close();
  const pipe = new SdPipeline(loadSdModel(MODEL), undefined, { threads: 1 });
  const { images } = await pipe.sample({ prompts, seeds, ...DEFAULT_SAMPLING });
  await pipe.release();
  let worst = 0;
  for (let i = 0; i < recorded.length; i++) worst = Math.max(worst, Math.abs(images.data[i] - recorded[i]));
  // Float sums may differ in the last bits across CPUs' kernels; a different model differs by far more.
  assert.ok(worst < 2e-3, `largest pixel difference ${worst}`);
});

test('quick alignment check: most samples show the caption\'s class, color and context', async () => {
  const { captions } = baseEvaluationCaptions(64);
  const pipe = new SdPipeline(loadSdModel(MODEL));
  const { images } = await pipe.sample({ prompts: captions, seeds: captions.map((_, i) => 1000 + i), ...DEFAULT_SAMPLING });
  await pipe.release();
  const results = new WorldOracle().judge(images, captions);
  const rate = results.filter(matchesCore).length / results.length;
  // The full benchmark (256 captions: 0.738) is `npm run bench -- world`; these 64 score 0.734 with the shipped
  // weights. The bound leaves room for other CPUs' rounding and catches a broken or much worse model.
  assert.ok(rate >= 0.6, `class/color/context alignment ${rate.toFixed(3)} on ${captions.length} captions`);
});
