import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bfloat16ArrayToFloat32, float16ArrayToFloat32, float32ArrayToBfloat16, float32ArrayToFloat16 } from '../../../src/runtime/onnx/half.js';
import { openSafetensors } from '../../../src/runtime/engine/safetensors.js';
import { loadComponent } from '../../../src/runtime/models/weights/checkpoint-load.js';
import { detectCheckpoint } from '../../../src/runtime/models/weights/checkpoint.js';
import { diffusersToLdm } from '../../../src/runtime/models/weights/ldm-keys.js';
import { saveDiffusersFolder, saveLdmCheckpoint } from '../../../src/runtime/models/weights/save.js';
import { COMPONENTS, SD15 } from '../../../src/runtime/models/weights/sd15-layout.js';
import { assertSameWeights, rounded, tempDir, tinyModel, tinyShapes, TINY } from './fakes.js';

const tmp = tempDir('save');
after(tmp.cleanup);
const model = tinyModel(11);
const f16 = (f: Float32Array) => float16ArrayToFloat32(float32ArrayToFloat16(f));
const bf16 = (f: Float32Array) => bfloat16ArrayToFloat32(float32ArrayToBfloat16(f));

test('LDM single file: the key set is the LDM layout and everything loads back identical', () => {
  const file = tmp.file('full.safetensors');
  saveLdmCheckpoint(file, model, { layout: TINY });
  const st = openSafetensors(file);
  const want = new Set<string>(['cond_stage_model.transformer.text_model.embeddings.position_ids']);
  for (const c of COMPONENTS) for (const n of model[c].keys()) want.add(diffusersToLdm(c, n, TINY));
  assert.deepEqual(new Set(st.names()), want);
  assert.deepEqual(st.info('first_stage_model.encoder.mid.attn_1.q.weight').shape, [8, 8, 1, 1]);
  assert.equal(st.info('cond_stage_model.transformer.text_model.embeddings.position_ids').dtype, 'int64');
  assert.equal(st.metadata.format, 'pt');
  st.close();

  const ckpt = detectCheckpoint(file);
  assert.equal(ckpt.kind, 'ldm');
  for (const c of COMPONENTS) {
    const { weights, report } = loadComponent(ckpt, c, { expected: tinyShapes(c), layout: TINY, strict: true });
    assert.equal(report.loaded, model[c].size);
    assertSameWeights(weights, model[c], c);
  }
});

for (const [dtype, round] of [['float16', f16], ['bfloat16', bf16]] as const) {
  test(`LDM single file saved as ${dtype} loads back as the rounded values`, () => {
    const file = tmp.file(`${dtype}.safetensors`);
    saveLdmCheckpoint(file, model, { layout: TINY, dtype });
    const ckpt = detectCheckpoint(file);
    assert.equal(ckpt.kind === 'ldm' && ckpt.unetDtype, dtype);
    for (const c of COMPONENTS) {
      const { weights } = loadComponent(ckpt, c, { expected: tinyShapes(c), layout: TINY, strict: true });
      assertSameWeights(weights, rounded(model[c], round), `${c} ${dtype}`);
    }
  });
}

test('diffusers folder: configs, model_index and weights round-trip (float32 and an fp16 variant)', () => {
  const tok = tmp.file('tok');
  fs.mkdirSync(tok);
  fs.writeFileSync(path.join(tok, 'vocab.json'), '{"a":0}');
  fs.writeFileSync(path.join(tok, 'merges.txt'), '#version: 0.2\n');

  const dir = tmp.file('pipeline');
  saveDiffusersFolder(dir, model, { layout: TINY, tokenizerDir: tok });
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'model_index.json'), 'utf8'));
  assert.deepEqual(index.unet, ['diffusers', 'UNet2DConditionModel']);
  assert.deepEqual(index.tokenizer, ['transformers', 'CLIPTokenizer']);
  const unetConfig = JSON.parse(fs.readFileSync(path.join(dir, 'unet', 'config.json'), 'utf8'));
  assert.deepEqual(unetConfig.block_out_channels, [4, 8, 8, 8]);
  assert.deepEqual(unetConfig.down_block_types, ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D']);
  assert.deepEqual(unetConfig.up_block_types, ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D']);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'scheduler', 'scheduler_config.json'), 'utf8')).steps_offset, 1);

  const ckpt = detectCheckpoint(dir);
  assert.equal(ckpt.kind, 'diffusers');
  assert.equal(ckpt.kind === 'diffusers' && ckpt.tokenizer, path.join(dir, 'tokenizer'));
  for (const c of COMPONENTS) assertSameWeights(loadComponent(ckpt, c, { expected: tinyShapes(c), strict: true }).weights, model[c], c);

  const half = tmp.file('pipeline-fp16');
  saveDiffusersFolder(half, model, { layout: TINY, dtype: 'float16', variant: 'fp16' });
  assert.ok(fs.existsSync(path.join(half, 'unet', 'diffusion_pytorch_model.fp16.safetensors')));
  assert.ok(fs.existsSync(path.join(half, 'text_encoder', 'model.fp16.safetensors')));
  const h = detectCheckpoint(half);
  for (const c of COMPONENTS) assertSameWeights(loadComponent(h, c, { expected: tinyShapes(c), strict: true }).weights, rounded(model[c], f16), `${c} fp16`);
});

test('saving refuses names outside the layout, naming them, and leaves no partial file', () => {
  const file = tmp.file('bad.safetensors');
  const unet = new Map(model.unet);
  unet.set('down_blocks.9.resnets.0.norm1.weight', model.unet.get('conv_in.bias')!);
  assert.throws(() => saveLdmCheckpoint(file, { unet }, { layout: TINY }), /no LDM key for unet parameter "down_blocks\.9\.resnets\.0\.norm1\.weight"/);
  assert.equal(fs.existsSync(file), false);
  assert.deepEqual(fs.readdirSync(path.dirname(file)).filter((f) => f.includes('bad.safetensors')), []);
});

test('the SD1.5 default layout names the configs as the real SD1.5 files do', () => {
  const dir = tmp.file('sd15-configs');
  saveDiffusersFolder(dir, { unet: new Map() });
  const unet = JSON.parse(fs.readFileSync(path.join(dir, 'unet', 'config.json'), 'utf8'));
  assert.deepEqual([unet.block_out_channels, unet.cross_attention_dim, unet.layers_per_block], [SD15.unet.blockOutChannels, 768, 2]);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'model_index.json'), 'utf8')).vae, [null, null]);
});
