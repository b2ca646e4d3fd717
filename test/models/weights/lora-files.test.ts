import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { float16ArrayToFloat32, float32ArrayToFloat16 } from '../../../src/runtime/onnx/half.js';
import { Rng } from '../../../src/runtime/onnx/random.js';
import { openSafetensors, writeSafetensors } from '../../../src/runtime/engine/safetensors.js';
import type { HostTensor } from '../../../src/runtime/onnx/tensor.js';
import { loraNames } from '../../../src/runtime/onnx/layers.js';
import { kohyaModuleName, loadLora, LORA_ADAPTER_METADATA_KEY, moduleFromKohyaName, saveLora, type LoraWeights } from '../../../src/runtime/models/weights/lora-files.js';
import { componentShapes } from '../../../src/runtime/models/weights/sd15-layout.js';
import { assertSameWeights, rounded, tempDir } from './fakes.js';

const tmp = tempDir('lora');
after(tmp.cleanup);

/** Adapters on every attention projection of the SD1.5 UNet (as DDPO trains them) and on two text encoder layers. */
function makeLora(rank = 4, alpha = 8, seed = 5): LoraWeights {
  const rng = new Rng(seed);
  const t = (shape: number[]): HostTensor => ({ dtype: 'float32', shape, data: rng.fillNormal(new Float32Array(shape[0] * shape[1])) });
  const unet = new Map<string, HostTensor>();
  for (const [name, shape] of componentShapes('unet')) {
    const m = /^(.*\.attn[12]\.(to_q|to_k|to_v|to_out\.0))\.weight$/.exec(name);
    if (!m) continue;
    const n = loraNames(m[1]);
    unet.set(n.down, t([rank, shape[1]]));
    unet.set(n.up, t([shape[0], rank]));
  }
  const text_encoder = new Map<string, HostTensor>();
  for (const p of ['text_model.encoder.layers.0.self_attn.q_proj', 'text_model.encoder.layers.11.mlp.fc1']) {
    text_encoder.set(loraNames(p).down, t([rank, 768]));
    text_encoder.set(loraNames(p).up, t([p.endsWith('fc1') ? 3072 : 768, rank]));
  }
  return { rank, alpha, unet, text_encoder };
}

const lora = makeLora();

test('kohya module names: the documented example, and every module path of SD1.5 both ways', () => {
  assert.equal(kohyaModuleName('unet', 'down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_out.0'), 'lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_out_0');
  assert.deepEqual(moduleFromKohyaName('lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_out_0'),
    { component: 'unet', prefix: 'down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_out.0' });
  assert.deepEqual(moduleFromKohyaName('lora_te_text_model_encoder_layers_0_self_attn_q_proj'),
    { component: 'text_encoder', prefix: 'text_model.encoder.layers.0.self_attn.q_proj' });
  for (const component of ['unet', 'text_encoder'] as const) {
    const prefixes = new Set([...componentShapes(component).keys()].map((n) => n.replace(/\.(weight|bias)$/, '')));
    for (const p of prefixes) assert.deepEqual(moduleFromKohyaName(kohyaModuleName(component, p)), { component, prefix: p }, p);
  }
});

for (const format of ['kohya', 'peft'] as const) {
  test(`${format}: what is saved loads back identical`, () => {
    const file = tmp.file(`${format}.safetensors`);
    saveLora(file, lora, { format });
    const back = loadLora(file);
    assert.equal(back.format, format);
    assert.deepEqual([back.rank, back.alpha, back.adjusted], [4, 8, []]);
    assertSameWeights(back.unet, lora.unet, 'unet');
    assertSameWeights(back.text_encoder!, lora.text_encoder!, 'text');
  });

  test(`${format}: saved as float16 loads back as the rounded values`, () => {
    const file = tmp.file(`${format}-f16.safetensors`);
    saveLora(file, lora, { format, dtype: 'float16' });
    const st = openSafetensors(file);
    assert.ok(st.names().filter((n) => !n.endsWith('.alpha')).every((n) => st.info(n).dtype === 'float16'));
    st.close();
    const back = loadLora(file);
    const round = (f: Float32Array) => float16ArrayToFloat32(float32ArrayToFloat16(f));
    assertSameWeights(back.unet, rounded(lora.unet, round), 'unet f16');
    assertSameWeights(back.text_encoder!, rounded(lora.text_encoder!, round), 'text f16');
  });
}

test('kohya files carry the names, scalar F32 alphas and ss_* metadata other tools read', () => {
  const file = tmp.file('kohya-layout.safetensors');
  saveLora(file, { ...lora, text_encoder: undefined }, { format: 'kohya', dtype: 'float16', metadata: { ss_output_name: 'dog' } });
  const st = openSafetensors(file);
  const base = 'lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_out_0';
  assert.deepEqual(st.info(`${base}.lora_down.weight`).shape, [4, 640]);
  assert.deepEqual(st.info(`${base}.lora_up.weight`).shape, [640, 4]);
  assert.deepEqual([st.info(`${base}.alpha`).dtype, st.info(`${base}.alpha`).shape], ['float32', []]);
  assert.deepEqual([...st.read(`${base}.alpha`).data], [8]);
  assert.equal(st.names().length, 128 * 3);
  assert.deepEqual(st.metadata, {
    ss_network_module: 'networks.lora', ss_network_dim: '4', ss_network_alpha: '8', ss_base_model_version: 'sd_v1', software: 'instructbooth', ss_output_name: 'dog',
  });
  st.close();
});

test('peft files carry unet.<path>.lora_A/B and the adapter config diffusers reads', () => {
  const file = tmp.file('peft-layout.safetensors');
  saveLora(file, lora, { format: 'peft' });
  const st = openSafetensors(file);
  const p = 'unet.mid_block.attentions.0.transformer_blocks.0.attn1.to_q';
  assert.deepEqual(st.info(`${p}.lora_A.weight`).shape, [4, 1280]);
  assert.deepEqual(st.info(`${p}.lora_B.weight`).shape, [1280, 4]);
  assert.ok(st.has('text_encoder.text_model.encoder.layers.11.mlp.fc1.lora_B.weight'));
  assert.equal(st.metadata.format, 'pt');
  const cfg = JSON.parse(st.metadata[LORA_ADAPTER_METADATA_KEY]);
  assert.equal(cfg['unet.r'], 4);
  assert.equal(cfg['unet.lora_alpha'], 8);
  assert.equal(cfg['unet.target_modules'].length, 128);
  assert.ok(cfg['unet.target_modules'].includes('mid_block.attentions.0.transformer_blocks.0.attn1.to_q'));
  assert.deepEqual(cfg['text_encoder.target_modules'], ['text_model.encoder.layers.0.self_attn.q_proj', 'text_model.encoder.layers.11.mlp.fc1']);
  st.close();
});

test('files from other tools: mixed ranks and alphas are unified without changing alpha/rank * up @ down', () => {
  const rng = new Rng(1);
  const t = (shape: number[]): HostTensor => ({ dtype: 'float32', shape, data: rng.fillNormal(new Float32Array(shape[0] * shape[1])) });
  const a = 'lora_unet_mid_block_attentions_0_transformer_blocks_0_attn1_to_q';
  const b = 'lora_unet_up_blocks_1_attentions_2_transformer_blocks_0_attn2_to_k';
  const tensors = {
    [`${a}.lora_down.weight`]: t([2, 3]), [`${a}.lora_up.weight`]: t([5, 2]), [`${a}.alpha`]: { dtype: 'float16' as const, shape: [], data: Uint16Array.of(0x3c00) },
    [`${b}.lora_down.weight`]: t([4, 3]), [`${b}.lora_up.weight`]: t([6, 4]),
  };
  const file = tmp.file('mixed.safetensors');
  writeSafetensors(file, tensors);
  const back = loadLora(file);
  assert.equal(back.rank, 4);
  assert.equal(back.alpha, 4);
  assert.deepEqual(back.adjusted.sort(), ['mid_block.attentions.0.transformer_blocks.0.attn1.to_q']);
  // delta = alpha/rank * up @ down must be what the file meant: (1/2) up_a @ down_a, (4/4) up_b @ down_b.
  const delta = (up: HostTensor, down: HostTensor, s: number) => {
    const [o, r] = up.shape;
    const i = down.shape[1];
    const u = up.data as Float32Array;
    const d = down.data as Float32Array;
    return Array.from({ length: o * i }, (_, k) => { let acc = 0; for (let j = 0; j < r; j++) acc += u[Math.floor(k / i) * r + j] * d[j * i + (k % i)]; return s * acc; });
  };
  const n = loraNames('mid_block.attentions.0.transformer_blocks.0.attn1.to_q');
  const got = delta(back.unet.get(n.up)!, back.unet.get(n.down)!, back.alpha / back.rank);
  const want = delta(tensors[`${a}.lora_up.weight`], tensors[`${a}.lora_down.weight`], 1 / 2);
  got.forEach((v, k) => assert.ok(Math.abs(v - want[k]) < 1e-6, `delta[${k}]`));
  assert.deepEqual(back.unet.get(loraNames('up_blocks.1.attentions.2.transformer_blocks.0.attn2.to_k').down)!.data, tensors[`${b}.lora_down.weight`].data);
});

test('plain PEFT and old diffusers attention-processor files load; broken ones are refused by key', () => {
  const t = (shape: number[]): HostTensor => ({ dtype: 'float32', shape, data: new Float32Array(shape[0] * shape[1]).fill(0.5) });
  const peft = tmp.file('plain-peft.safetensors');
  writeSafetensors(peft, {
    'base_model.model.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_v.lora_A.weight': t([2, 320]),
    'base_model.model.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_v.lora_B.weight': t([320, 2]),
  });
  const p = loadLora(peft);
  assert.deepEqual([p.format, p.rank, p.alpha], ['peft', 2, 2]);
  assert.ok(p.unet.has('down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_v.lora_down.weight'));

  const procs = tmp.file('attn-procs.safetensors');
  writeSafetensors(procs, {
    'down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_out_lora.down.weight': t([4, 320]),
    'down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_out_lora.up.weight': t([320, 4]),
  });
  const q = loadLora(procs);
  assert.equal(q.format, 'diffusers-attn-procs');
  assert.deepEqual([...q.unet.keys()].sort(), [
    'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0.lora_down.weight',
    'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0.lora_up.weight',
  ]);

  const half = tmp.file('half-pair.safetensors');
  writeSafetensors(half, { 'lora_unet_mid_block_attentions_0_proj_in.lora_down.weight': t([2, 4]) });
  assert.throws(() => loadLora(half), /LoRA file .*half-pair\.safetensors: module mid_block\.attentions\.0\.proj_in has no up/);
  const loha = tmp.file('loha.safetensors');
  writeSafetensors(loha, { 'lora_unet_mid_block_attentions_0_proj_in.hada_w1_a': t([2, 4]) });
  assert.throws(() => loadLora(loha), /key "lora_unet_mid_block_attentions_0_proj_in\.hada_w1_a" is not/);
  const none = tmp.file('none.safetensors');
  writeSafetensors(none, { 'conv_in.weight': t([2, 2]) });
  assert.throws(() => loadLora(none), /no LoRA keys .*found conv_in\.weight/);
});

test('saving checks internal names, pairs and ranks', () => {
  const f = tmp.file('x.safetensors');
  const bad = (unet: Map<string, HostTensor>) => () => saveLora(f, { rank: 4, alpha: 4, unet }, { format: 'kohya' });
  const w = (shape: number[]): HostTensor => ({ dtype: 'float32', shape, data: new Float32Array(shape[0] * shape[1]) });
  assert.throws(bad(new Map([['a.to_q.weight', w([4, 4])]])), /"a\.to_q\.weight" is not <prefix>\.lora_down\.weight/);
  assert.throws(bad(new Map([['a.to_q.lora_down.weight', w([4, 4])]])), /module a\.to_q lacks a\.to_q\.lora_up\.weight/);
  assert.throws(bad(new Map([['a.to_q.lora_down.weight', w([2, 4])], ['a.to_q.lora_up.weight', w([4, 2])]])), /do not have rank 4/);
});
