import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bfloat16ArrayToFloat32, float16ArrayToFloat32, float32ArrayToBfloat16, float32ArrayToFloat16 } from '../../../src/runtime/onnx/half.js';
import { writeSafetensors } from '../../../src/runtime/engine/safetensors.js';
import type { HostTensor } from '../../../src/runtime/onnx/tensor.js';
import { Graph } from '../../../src/runtime/onnx/ir.js';
import { saveModel } from '../../../src/runtime/onnx/model-file.js';
import { formatReport, loadComponent } from '../../../src/runtime/models/weights/checkpoint-load.js';
import { CheckpointError, detectCheckpoint } from '../../../src/runtime/models/weights/checkpoint.js';
import { diffusersToLdm, ldmEmaKey, toLdmShape } from '../../../src/runtime/models/weights/ldm-keys.js';
import { COMPONENTS, type ComponentName } from '../../../src/runtime/models/weights/sd15-layout.js';
import { assertSameWeights, randomWeights, rounded, tempDir, tinyModel, tinyShapes, TINY } from './fakes.js';

const tmp = tempDir('checkpoint');
after(tmp.cleanup);
const model = tinyModel(3);

type Half = 'float16' | 'bfloat16';
const toHalf = (f: Float32Array, dtype: Half) => (dtype === 'float16' ? float32ArrayToFloat16(f) : float32ArrayToBfloat16(f));
const fromHalf = (u: Uint16Array, dtype: Half) => (dtype === 'float16' ? float16ArrayToFloat32(u) : bfloat16ArrayToFloat32(u));
const asDtype = (t: HostTensor, dtype: 'float32' | Half): HostTensor =>
  dtype === 'float32' ? t : { dtype, shape: t.shape, data: toHalf(t.data as Float32Array, dtype) };

/** A tiny LDM single file the way A1111/ComfyUI write them, optionally with old text keys, EMA copies, extras. */
function writeLdm(name: string, o: { dtype?: 'float32' | Half; legacyText?: boolean; ema?: Map<string, HostTensor>; extra?: Record<string, HostTensor>; skip?: ComponentName[] } = {}): string {
  const file = tmp.file(name);
  const tensors: Record<string, HostTensor> = {};
  for (const c of COMPONENTS) {
    if (o.skip?.includes(c)) continue;
    for (const [n, t] of model[c]) {
      let key = diffusersToLdm(c, n, TINY);
      if (o.legacyText) key = key.replace('cond_stage_model.transformer.text_model.', 'cond_stage_model.transformer.');
      tensors[key] = asDtype({ ...t, shape: toLdmShape(c, n, t.shape) }, o.dtype ?? 'float32');
    }
  }
  for (const [n, t] of o.ema ?? []) tensors[ldmEmaKey(diffusersToLdm('unet', n, TINY))] = t;
  if (!o.skip?.includes('text_encoder')) {
    tensors[`cond_stage_model.transformer.${o.legacyText ? '' : 'text_model.'}embeddings.position_ids`] = { dtype: 'int64', shape: [1, 7], data: BigInt64Array.from([0n, 1n, 2n, 3n, 4n, 5n, 6n]) };
  }
  tensors.alphas_cumprod = { dtype: 'float32', shape: [4], data: Float32Array.of(0.99, 0.9, 0.5, 0.1) };
  Object.assign(tensors, o.extra);
  writeSafetensors(file, tensors);
  return file;
}

const load = (ckpt: ReturnType<typeof detectCheckpoint>, c: ComponentName, o = {}) => loadComponent(ckpt, c, { expected: tinyShapes(c), layout: TINY, ...o });

function assertClean(r: ReturnType<typeof load>['report']) {
  assert.deepEqual({ missing: r.missing, unexpected: r.unexpected, misshaped: r.misshaped }, { missing: [], unexpected: [], misshaped: [] }, formatReport(r));
}

test('an LDM single file is recognized and each component loads in diffusers naming', () => {
  const file = writeLdm('sd15.safetensors');
  const ckpt = detectCheckpoint(file);
  assert.equal(ckpt.kind, 'ldm');
  if (ckpt.kind !== 'ldm') return;
  assert.deepEqual(
    { family: ckpt.family, dim: ckpt.crossAttentionDim, components: ckpt.components, text: ckpt.textEncoderKeys, ema: ckpt.hasEma, dtype: ckpt.unetDtype, inCh: ckpt.unetInChannels },
    { family: 'sd1', dim: 768, components: ['unet', 'vae', 'text_encoder'], text: 'text_model', ema: false, dtype: 'float32', inCh: 4 },
  );
  for (const c of COMPONENTS) {
    const { weights, report } = load(ckpt, c);
    assertClean(report);
    assertSameWeights(weights, model[c], c);
    assert.deepEqual(report.storedAs, { float32: model[c].size });
  }
  const text = load(ckpt, 'text_encoder').report;
  assert.deepEqual(text.ignored, ['cond_stage_model.transformer.text_model.embeddings.position_ids']);
});

test('old text encoder keys (no text_model.) load under transformers names', () => {
  const ckpt = detectCheckpoint(writeLdm('legacy.safetensors', { legacyText: true }));
  assert.equal(ckpt.kind === 'ldm' && ckpt.textEncoderKeys, 'legacy');
  const { weights, report } = load(ckpt, 'text_encoder');
  assertClean(report);
  assertSameWeights(weights, model.text_encoder, 'text');
});

test('the EMA copy of the UNet loads when asked', () => {
  const ema = randomWeights('unet', 77);
  const ckpt = detectCheckpoint(writeLdm('ema.safetensors', { ema }));
  assert.equal(ckpt.kind === 'ldm' && ckpt.hasEma, true);
  assertSameWeights(load(ckpt, 'unet').weights, model.unet, 'plain');
  assertSameWeights(load(ckpt, 'unet', { ema: true }).weights, ema, 'ema');
  const noEma = detectCheckpoint(writeLdm('no-ema.safetensors'));
  assert.throws(() => load(noEma, 'unet', { ema: true }), /has no EMA weights/);
});

for (const dtype of ['float16', 'bfloat16'] as const) {
  test(`${dtype} checkpoints load as float32 equal to the converted values`, () => {
    const ckpt = detectCheckpoint(writeLdm(`${dtype}.safetensors`, { dtype }));
    assert.equal(ckpt.kind === 'ldm' && ckpt.unetDtype, dtype);
    for (const c of COMPONENTS) {
      const { weights, report } = load(ckpt, c);
      assertClean(report);
      assert.deepEqual(report.storedAs, { [dtype]: model[c].size });
      assertSameWeights(weights, rounded(model[c], (f) => fromHalf(toHalf(f, dtype), dtype)), `${c} ${dtype}`);
    }
  });
}

test('missing, unexpected and misshaped tensors are reported by name; strict mode throws naming them', () => {
  const [wrong] = [...model.unet.keys()].filter((n) => n.endsWith('conv1.weight'));
  const expected = tinyShapes('unet');
  expected.set(wrong, [1, 2, 3, 3]);
  expected.set('extra_module.weight', [4]);
  const file = writeLdm('odd.safetensors', { extra: { 'model.diffusion_model.input_blocks.99.0.in_layers.0.weight': { dtype: 'float32', shape: [2], data: new Float32Array(2) } } });
  const ckpt = detectCheckpoint(file);
  const { weights, report } = loadComponent(ckpt, 'unet', { expected, layout: TINY });
  assert.deepEqual(report.missing, ['extra_module.weight']);
  assert.deepEqual(report.unexpected, ['model.diffusion_model.input_blocks.99.0.in_layers.0.weight']);
  assert.equal(report.misshaped.length, 1);
  assert.deepEqual(report.misshaped[0], { name: wrong, key: diffusersToLdm('unet', wrong, TINY), expected: [1, 2, 3, 3], found: model.unet.get(wrong)!.shape });
  assert.equal(weights.has(wrong), false);
  assert.equal(weights.size, model.unet.size - 1);
  assert.throws(() => loadComponent(ckpt, 'unet', { expected, layout: TINY, strict: true }), (e: Error) => {
    assert.ok(e instanceof CheckpointError);
    assert.match(e.message, /missing 1: extra_module\.weight/);
    assert.match(e.message, /unexpected 1: model\.diffusion_model\.input_blocks\.99\.0\.in_layers\.0\.weight/);
    const found = model.unet.get(wrong)!.shape.join(', ');
    assert.ok(e.message.includes(`misshaped 1: ${diffusersToLdm('unet', wrong, TINY)} is [${found}], expected [1, 2, 3, 3]`), e.message);
    return true;
  });
});

test('a file without some components says so when asked for them', () => {
  const ckpt = detectCheckpoint(writeLdm('unet-only.safetensors', { skip: ['vae', 'text_encoder'] }));
  assert.deepEqual(ckpt.kind === 'ldm' && ckpt.components, ['unet']);
  assert.throws(() => load(ckpt, 'vae'), /has no vae weights/);
});

test('SDXL, SD2 and other foreign files are refused with what was recognized', () => {
  const t = (shape: number[]): HostTensor => ({ dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
  const sdxl = tmp.file('sdxl.safetensors');
  writeSafetensors(sdxl, {
    'conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight': t([4, 2]),
    'model.diffusion_model.label_emb.0.0.weight': t([2, 2]),
    'model.diffusion_model.input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight': t([2, 2048]),
  });
  assert.throws(() => detectCheckpoint(sdxl), /unsupported checkpoint: looks like SDXL \(found conditioner\.embedders\.0\.transformer\.text_model\.embeddings\.token_embedding\.weight, model\.diffusion_model\.label_emb\.0\.0\.weight\)/);

  const sd2 = tmp.file('sd2.safetensors');
  writeSafetensors(sd2, {
    'model.diffusion_model.input_blocks.0.0.weight': t([4, 4, 3, 3]),
    'model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight': t([4, 1024]),
    'cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight': t([3, 2]),
  });
  assert.throws(() => detectCheckpoint(sd2), /unsupported checkpoint: looks like SD2\.x \(cross-attention dim 1024 from model\.diffusion_model\.input_blocks\.1\.1\.transformer_blocks\.0\.attn2\.to_k\.weight \[4, 1024\]\)/);

  const lora = tmp.file('lora.safetensors');
  writeSafetensors(lora, { 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight': t([2, 4]) });
  assert.throws(() => detectCheckpoint(lora), /a LoRA file, not a checkpoint \(found lora_unet_down_blocks_0_attentions_0_proj_in\.lora_down\.weight\)/);

  const component = tmp.file('diffusion_pytorch_model.safetensors');
  writeSafetensors(component, { 'conv_in.weight': t([4, 4, 3, 3]) });
  assert.throws(() => detectCheckpoint(component), /diffusers naming .*give the diffusers folder/);

  const ckptFile = tmp.file('model.ckpt');
  fs.writeFileSync(ckptFile, 'PK\x03\x04');
  assert.throws(() => detectCheckpoint(ckptFile), /pickle files \(\.ckpt\) are not read/);
  assert.throws(() => detectCheckpoint(path.join(tmp.dir, 'nope.safetensors')), /checkpoint not found: .*nope\.safetensors/);
});

test('truncated or corrupt files give an error naming the file', () => {
  const good = writeLdm('whole.safetensors');
  const cut = tmp.file('truncated.safetensors');
  const bytes = fs.readFileSync(good);
  fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
  assert.throws(() => detectCheckpoint(cut), (e: Error) => {
    assert.ok(e instanceof CheckpointError);
    assert.equal(e.file, cut);
    assert.match(e.message, new RegExp(`cannot read checkpoint ${cut.replace(/[.\\/]/g, '\\$&')}`));
    assert.match(e.message, /run past the end|cover/);
    return true;
  });

  // Damaged after detection: the load names the file too.
  const later = tmp.file('later.safetensors');
  fs.copyFileSync(good, later);
  const ckpt = detectCheckpoint(later);
  fs.truncateSync(later, 5000);
  assert.throws(() => load(ckpt, 'unet'), new RegExp(`cannot read checkpoint ${later.replace(/[.\\/]/g, '\\$&')}`));

  const garbage = tmp.file('garbage.safetensors');
  fs.writeFileSync(garbage, Buffer.from('this is not a safetensors file at all'));
  assert.throws(() => detectCheckpoint(garbage), new RegExp(`cannot read checkpoint .*garbage\\.safetensors: `));
  const zip = tmp.file('renamed-ckpt.safetensors');
  fs.writeFileSync(zip, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(64)]));
  assert.throws(() => detectCheckpoint(zip), /zip archive: a PyTorch pickle checkpoint/);
});

/** A tiny diffusers folder; `vaeNames` rewrites VAE names (old attention naming), `stem` picks file names. */
function writeDiffusers(name: string, o: { variant?: string; dtype?: 'float32' | Half; oldVaeNames?: boolean; shardUnet?: boolean; config?: Record<string, unknown>; xl?: boolean } = {}): string {
  const root = tmp.file(name);
  const suffix = o.variant ? `.${o.variant}` : '';
  const put = (dir: string, file: string, w: Map<string, HostTensor>, rename = (n: string) => n) => {
    fs.mkdirSync(path.join(root, dir), { recursive: true });
    const rec: Record<string, HostTensor> = {};
    for (const [n, t] of w) rec[rename(n)] = asDtype(t, o.dtype ?? 'float32');
    writeSafetensors(path.join(root, dir, file), rec, { format: 'pt' });
  };
  if (o.shardUnet) {
    const entries = [...model.unet];
    const half = Math.floor(entries.length / 2);
    const shards = [new Map(entries.slice(0, half)), new Map(entries.slice(half))];
    const weightMap: Record<string, string> = {};
    shards.forEach((s, i) => {
      const f = `diffusion_pytorch_model-0000${i + 1}-of-00002.safetensors`;
      put('unet', f, s);
      for (const n of s.keys()) weightMap[n] = f;
    });
    fs.writeFileSync(path.join(root, 'unet', 'diffusion_pytorch_model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  } else put('unet', `diffusion_pytorch_model${suffix}.safetensors`, model.unet);
  const old = { to_q: 'query', to_k: 'key', to_v: 'value', 'to_out.0': 'proj_attn' } as Record<string, string>;
  put('vae', `diffusion_pytorch_model${suffix}.safetensors`, model.vae, (n) =>
    o.oldVaeNames ? n.replace(/attentions\.0\.(to_q|to_k|to_v|to_out\.0)\./, (_, p: string) => `attentions.0.${old[p]}.`) : n);
  put('text_encoder', `model${suffix}.safetensors`, model.text_encoder);
  fs.writeFileSync(path.join(root, 'unet', 'config.json'), JSON.stringify({ cross_attention_dim: 768, ...o.config }));
  fs.mkdirSync(path.join(root, 'tokenizer'));
  fs.writeFileSync(path.join(root, 'tokenizer', 'vocab.json'), '{}');
  fs.writeFileSync(path.join(root, 'tokenizer', 'merges.txt'), '#version: 0.2\n');
  fs.mkdirSync(path.join(root, 'scheduler'));
  fs.writeFileSync(path.join(root, 'scheduler', 'scheduler_config.json'), '{"_class_name":"PNDMScheduler"}');
  fs.writeFileSync(path.join(root, 'model_index.json'), JSON.stringify({ _class_name: o.xl ? 'StableDiffusionXLPipeline' : 'StableDiffusionPipeline' }));
  return root;
}

test('a diffusers folder is recognized and loads, old VAE attention names included', () => {
  const root = writeDiffusers('diffusers', { oldVaeNames: true });
  const ckpt = detectCheckpoint(root);
  assert.equal(ckpt.kind, 'diffusers');
  if (ckpt.kind !== 'diffusers') return;
  assert.equal(ckpt.crossAttentionDim, 768);
  assert.deepEqual(ckpt.files, {
    unet: [path.join(root, 'unet', 'diffusion_pytorch_model.safetensors')],
    vae: [path.join(root, 'vae', 'diffusion_pytorch_model.safetensors')],
    text_encoder: [path.join(root, 'text_encoder', 'model.safetensors')],
  });
  assert.equal(ckpt.tokenizer, path.join(root, 'tokenizer'));
  assert.equal(ckpt.schedulerConfig, path.join(root, 'scheduler', 'scheduler_config.json'));
  for (const c of COMPONENTS) {
    const { weights, report } = load(ckpt, c);
    assertClean(report);
    assertSameWeights(weights, model[c], c);
  }
});

test('diffusers fp16 variants and sharded weights load', () => {
  const fp16 = detectCheckpoint(writeDiffusers('fp16', { variant: 'fp16', dtype: 'float16' }));
  assert.match(fp16.kind === 'diffusers' ? fp16.files.unet![0] : '', /diffusion_pytorch_model\.fp16\.safetensors$/);
  const { weights, report } = load(fp16, 'unet');
  assertClean(report);
  assertSameWeights(weights, rounded(model.unet, (f) => float16ArrayToFloat32(float32ArrayToFloat16(f))), 'fp16 unet');

  const sharded = detectCheckpoint(writeDiffusers('sharded', { shardUnet: true }));
  assert.equal(sharded.kind === 'diffusers' && sharded.files.unet!.length, 2);
  assertSameWeights(load(sharded, 'unet').weights, model.unet, 'sharded');
});

test('diffusers folders of SDXL or SD2 are refused, pickle-only folders explained', () => {
  assert.throws(() => detectCheckpoint(writeDiffusers('xl', { xl: true })), /looks like SDXL \(found model_index\.json _class_name StableDiffusionXLPipeline\)/);
  assert.throws(() => detectCheckpoint(writeDiffusers('sd2', { config: { cross_attention_dim: 1024 } })), /looks like SD2\.x \(cross-attention dim 1024 from cross_attention_dim in .*config\.json\)/);
  const pickles = writeDiffusers('pickles');
  fs.rmSync(path.join(pickles, 'vae', 'diffusion_pytorch_model.safetensors'));
  fs.writeFileSync(path.join(pickles, 'vae', 'diffusion_pytorch_model.bin'), 'x');
  assert.throws(() => detectCheckpoint(pickles), /vae holds only PyTorch pickle weights \(diffusion_pytorch_model\.bin\)/);
  const broken = writeDiffusers('broken');
  const te = path.join(broken, 'text_encoder', 'model.safetensors');
  fs.truncateSync(te, fs.statSync(te).size - 8);
  assert.throws(() => detectCheckpoint(broken), new RegExp(`cannot read checkpoint .*text_encoder.model\\.safetensors`));
});

test('a 1x1-conv weight where a Linear is expected (or back) is reshaped and reported', () => {
  const root = writeDiffusers('reshape');
  const ckpt = detectCheckpoint(root);
  const expected = tinyShapes('unet');
  const name = 'down_blocks.0.attentions.0.proj_in.weight';
  expected.set(name, expected.get(name)!.slice(0, 2));
  const { weights, report } = loadComponent(ckpt, 'unet', { expected });
  assert.deepEqual(report.reshaped, [name]);
  assert.deepEqual(weights.get(name)!.shape, [4, 4]);
  assert.deepEqual(weights.get(name)!.data, model.unet.get(name)!.data);
});

test('an ONNX export is recognized; initializers load by name and the rest is reported', () => {
  const root = tmp.file('onnx');
  const write = (dir: string, inits: Map<string, HostTensor>, external: boolean) => {
    const g = new Graph();
    g.initializers = inits;
    g.inputs = ['sample'];
    g.outputs = ['out_sample'];
    g.values.set('sample', { dtype: 'float32', shape: [1, 4] });
    g.values.set('out_sample', { dtype: 'float32', shape: [1, 4] });
    g.nodes.push({ op: 'Identity', domain: '', name: 'id', inputs: ['sample'], outputs: ['out_sample'], attrs: {} });
    fs.mkdirSync(path.join(root, dir), { recursive: true });
    saveModel(g, path.join(root, dir, 'model.onnx'), { externalData: external });
  };
  // The UNet as exporters leave it: most weights under their names (some in float16), a constant-folded MatMul
  // weight under a generated name, an int64 shape constant.
  const unet = new Map(model.unet);
  const f16Name = 'conv_in.weight';
  unet.set(f16Name, asDtype(model.unet.get(f16Name)!, 'float16'));
  const matmul = 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight';
  unet.delete(matmul);
  unet.set('onnx::MatMul_9001', { dtype: 'float32', shape: [4, 4], data: new Float32Array(16) });
  unet.set('onnx::Reshape_12', { dtype: 'int64', shape: [2], data: BigInt64Array.of(1n, -1n) });
  write('unet', unet, true);
  write('text_encoder', model.text_encoder, false);
  const vae = [...model.vae];
  write('vae_encoder', new Map(vae.filter(([n]) => n.startsWith('encoder.') || n.startsWith('quant_conv.'))), false);
  write('vae_decoder', new Map(vae.filter(([n]) => n.startsWith('decoder.') || n.startsWith('post_quant_conv.'))), false);
  fs.mkdirSync(path.join(root, 'tokenizer'));
  fs.writeFileSync(path.join(root, 'tokenizer', 'vocab.json'), '{}');

  const ckpt = detectCheckpoint(root);
  assert.equal(ckpt.kind, 'onnx');
  if (ckpt.kind !== 'onnx') return;
  assert.equal(ckpt.files.unet, path.join(root, 'unet', 'model.onnx'));
  assert.deepEqual(ckpt.externalData, [path.join(root, 'unet', 'model.onnx.data')]);
  assert.equal(ckpt.tokenizer, path.join(root, 'tokenizer'));

  const { weights, report } = load(ckpt, 'unet');
  assert.deepEqual(report.missing, [matmul]);
  assert.deepEqual(report.unexpected, ['onnx::MatMul_9001']);
  assert.deepEqual(report.ignored, ['onnx::Reshape_12']);
  assert.deepEqual(report.storedAs, { float32: model.unet.size - 2, float16: 1 });
  const want = new Map(model.unet);
  want.delete(matmul);
  want.set(f16Name, rounded(new Map([[f16Name, model.unet.get(f16Name)!]]), (f) => float16ArrayToFloat32(float32ArrayToFloat16(f))).get(f16Name)!);
  assertSameWeights(weights, want, 'onnx unet');
  for (const c of ['vae', 'text_encoder'] as const) {
    const r = load(ckpt, c);
    assertClean(r.report);
    assertSameWeights(r.weights, model[c], c);
  }

  const bad = tmp.file('onnx-bad');
  fs.mkdirSync(path.join(bad, 'unet'), { recursive: true });
  fs.writeFileSync(path.join(bad, 'unet', 'model.onnx'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
  assert.throws(() => load(detectCheckpoint(bad), 'unet'), /cannot read ONNX model .*onnx-bad.unet.model\.onnx/);
});
