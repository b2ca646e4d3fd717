// Records what the shipped embedded model draws for a few fixed prompts and seeds (test/fixtures/embedded/), so the
// tests can check that the shipped weights load and reproduce them. Rerun after retraining the model.
//   node --import tsx scripts/record-embedded-fixture.ts
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_SAMPLING } from '../src/runtime/diffusion/sampler.js';
import { writeSafetensors } from '../src/runtime/engine/safetensors.js';
import { loadSdModel } from '../src/runtime/models/sd-model.js';
import { SdPipeline } from '../src/runtime/models/sd-pipeline.js';

export const RECORDED = { prompts: ['a red circle', 'a blue square on the beach', 'a green star wearing a hat', 'a yellow heart next to a ball'], seeds: [1, 2, 3, 4] };

const out = path.join(import.meta.dirname, '../test/fixtures/embedded');
if (process.argv[1]?.endsWith('record-embedded-fixture.ts')) {
  const pipe = new SdPipeline(loadSdModel(path.join(import.meta.dirname, '../models/embedded')), undefined, { threads: 1 });
  const { images } = await pipe.sample({ ...RECORDED, ...DEFAULT_SAMPLING });
  await pipe.release();
  fs.mkdirSync(out, { recursive: true });
  writeSafetensors(path.join(out, 'recorded.safetensors'), { images: { dtype: 'float32', shape: [images.count, images.height, images.width, images.channels], data: images.data } }, {
    prompts: JSON.stringify(RECORDED.prompts), seeds: JSON.stringify(RECORDED.seeds), sampling: JSON.stringify(DEFAULT_SAMPLING),
  });
  console.log(`recorded ${images.count} images to ${out}/recorded.safetensors`);
}
