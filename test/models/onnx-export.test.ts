// An ONNX export in Optimum's layout, written by PyTorch (scripts/torch/make-onnx-export-fixture.py), samples through
// OnnxExportPipeline as the same weights do through the project's own graphs (SdPipeline): text encoding, every
// denoising step with guidance, decoding and encoding agree.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ClipTokenizer } from '../../src/runtime/diffusion/tokenizer.js';
import { loadSchedulerConfig } from '../../src/runtime/diffusion/schedule.js';
import { clipTextConfigFromJson } from '../../src/runtime/models/clip-text.js';
import { unetConfigFromDiffusers, vaeConfigFromDiffusers } from '../../src/runtime/models/configs.js';
import { loadOnnxExport } from '../../src/runtime/models/onnx-export.js';
import { OnnxExportPipeline } from '../../src/runtime/models/onnx-export-pipeline.js';
import type { SdModel } from '../../src/runtime/models/sd-model.js';
import { SdPipeline } from '../../src/runtime/models/sd-pipeline.js';
import { readTensors, relErr } from '../fixture-utils.js';

const EXPORT = path.join(import.meta.dirname, '..', 'fixtures', 'onnx-export');
const SD_TINY = path.join(import.meta.dirname, '..', 'fixtures', 'sd-tiny');
const json = (f: string) => JSON.parse(fs.readFileSync(path.join(EXPORT, f), 'utf8'));

/** The export's weights as an SdModel: the UNet and VAE of sd-tiny, the text encoder the fixture script saved. */
function referenceModel(): SdModel {
  return {
    source: 'reference',
    unet: { config: unetConfigFromDiffusers(json('unet/config.json')), weights: readTensors(path.join(SD_TINY, 'unet-weights.safetensors')) },
    vae: { config: { ...vaeConfigFromDiffusers(json('vae_decoder/config.json')) }, weights: readTensors(path.join(SD_TINY, 'vae-weights.safetensors')) },
    textEncoder: { config: clipTextConfigFromJson(json('text_encoder/config.json')), weights: readTensors(path.join(EXPORT, 'text_encoder', 'weights.safetensors')) },
    tokenizer: ClipTokenizer.fromFolder(path.join(EXPORT, 'tokenizer')),
    scheduler: loadSchedulerConfig(path.join(EXPORT, 'scheduler', 'scheduler_config.json')),
    resolution: 64,
  };
}

describe('ONNX export (Optimum layout)', () => {
  const exported = new OnnxExportPipeline(loadOnnxExport(EXPORT), { threads: 1 });
  const reference = new SdPipeline(referenceModel(), undefined, { threads: 1 });
  after(async () => {
    await exported.release();
    await reference.release();
  });

  test('reads resolution, latent shape and scale from the export\'s configs', () => {
    assert.equal(exported.resolution, 64);
    assert.deepEqual(exported.latentShape, [4, 16, 16]);
    assert.equal(exported.model.scalingFactor, 0.18215);
  });

  test('text encoding agrees', async () => {
    const prompts = ['a photo of a sks dog', ''];
    const a = await exported.encodeText(prompts);
    const b = await reference.encodeText(prompts);
    assert.deepEqual(a.shape, [2, 77, 20]);
    assert.ok(relErr(a.data as Float32Array, b.data as Float32Array) < 1e-5);
  });

  for (const scheduler of ['ddim', 'euler_a'] as const)
    test(`${scheduler} sampling with guidance gives the same latents and images`, async () => {
      const req = { prompts: ['a photo of a sks dog', 'a dog'], seeds: [1, 2], steps: 4, guidance: 3, scheduler };
      const a = await exported.sample(req);
      const b = await reference.sample(req);
      const err = relErr(a.latents.data as Float32Array, b.latents.data as Float32Array);
      assert.ok(err < 1e-4, `latents differ by ${err}`);
      assert.ok(relErr(a.images.data, b.images.data) < 1e-4);
    });

  test('VAE encoding gives the posterior mean, scaled', async () => {
    const { images } = await reference.sample({ prompts: ['a dog'], seeds: [3], steps: 2, guidance: 1, scheduler: 'ddim' });
    const a = await exported.encode(images);
    const b = await reference.encode(images);
    assert.ok(relErr(a.data as Float32Array, b.data as Float32Array) < 1e-4);
  });
});
