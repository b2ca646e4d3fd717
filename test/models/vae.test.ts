// The VAE against PyTorch (scripts/torch/make-sd-fixtures.py, a float64 run of the diffusers port in
// scripts/torch/sd_modules.py): the tiny config loads the fixture's diffusers-named weights exactly and reproduces
// encode (mean, logvar) and decode; SD1.5's config has diffusers' parameter set (counted without allocating it).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Session } from '../../src/runtime/engine/session.js';
import { recordParamShapes } from '../../src/runtime/models/blocks.js';
import { SD15_VAE, TINY_VAE, vaeConfigFromDiffusers } from '../../src/runtime/models/configs.js';
import { vaeDecode, vaeEncode, vaeParamCount, vaeParamShapes } from '../../src/runtime/models/vae.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import { WeightsSource } from '../../src/runtime/onnx/params.js';
import { readTensors, relErr } from '../fixture-utils.js';

const dir = path.join(import.meta.dirname, '../fixtures/sd-tiny');
const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')).vae;

const readAll = (file: string) => readTensors(path.join(dir, file));


const weights = readAll('vae-weights.safetensors');
const io = readAll('vae-io.safetensors');

test('the fixture config is the TINY_VAE preset', () => {
  assert.deepEqual(vaeConfigFromDiffusers(meta.config), TINY_VAE);
});

test('tiny VAE: loads the diffusers-named weights exactly; encode and decode match PyTorch', async () => {
  const src = new WeightsSource(weights);
  const enc = new GraphBuilder();
  const { mean, logvar } = vaeEncode({ b: enc, params: src }, TINY_VAE, enc.input('image', io.get('image')!.shape));
  enc.output(mean, 'mean');
  enc.output(logvar, 'logvar');
  const dec = new GraphBuilder();
  dec.output(vaeDecode({ b: dec, params: src }, TINY_VAE, dec.input('latents', io.get('latents')!.shape)), 'decoded');
  assert.deepEqual([...src.used].sort(), [...weights.keys()].sort(), 'every fixture tensor used, none missing');
  assert.equal(vaeParamCount(TINY_VAE), meta.params);

  const se = await Session.fromGraph(enc.graph, { threads: 2 });
  const e = await se.run({ image: io.get('image')! });
  const sd = await Session.fromGraph(dec.graph, { threads: 2 });
  const d = await sd.run({ latents: io.get('latents')! });
  for (const [name, got] of [['mean', e.mean], ['logvar', e.logvar], ['decoded', d.decoded]] as const) {
    const ref = io.get(name)!;
    assert.deepEqual(got.shape, ref.shape, name);
    const err = relErr(got.data as Float32Array, ref.data as Float32Array);
    assert.ok(err <= 1e-4, `${name}: max|diff| / max|ref| = ${err.toExponential(2)}`);
  }
  await se.release();
  await sd.release();
});

test('SD1.5 VAE: diffusers parameter set (83,653,863 values in 248 tensors), 512 px <-> 64x64 latents', () => {
  const shapes = vaeParamShapes(SD15_VAE);
  assert.equal(shapes.size, 248);
  assert.equal(vaeParamCount(SD15_VAE), 83_653_863);
  const expect: Record<string, number[]> = {
    'encoder.conv_in.weight': [128, 3, 3, 3],
    'encoder.down_blocks.0.resnets.0.conv1.weight': [128, 128, 3, 3],
    'encoder.down_blocks.0.downsamplers.0.conv.weight': [128, 128, 3, 3],
    'encoder.down_blocks.1.resnets.0.conv_shortcut.weight': [256, 128, 1, 1],
    'encoder.mid_block.attentions.0.group_norm.weight': [512],
    'encoder.mid_block.attentions.0.to_q.weight': [512, 512],
    'encoder.mid_block.attentions.0.to_q.bias': [512],
    'encoder.mid_block.attentions.0.to_out.0.weight': [512, 512],
    'encoder.conv_out.weight': [8, 512, 3, 3],
    'quant_conv.weight': [8, 8, 1, 1],
    'post_quant_conv.weight': [4, 4, 1, 1],
    'decoder.conv_in.weight': [512, 4, 3, 3],
    'decoder.up_blocks.0.resnets.2.conv2.weight': [512, 512, 3, 3],
    'decoder.up_blocks.0.upsamplers.0.conv.weight': [512, 512, 3, 3],
    'decoder.up_blocks.2.resnets.0.conv_shortcut.weight': [256, 512, 1, 1],
    'decoder.up_blocks.3.resnets.0.conv_shortcut.weight': [128, 256, 1, 1],
    'decoder.conv_norm_out.weight': [128],
    'decoder.conv_out.weight': [3, 128, 3, 3],
  };
  for (const [name, shape] of Object.entries(expect)) assert.deepEqual(shapes.get(name), shape, name);
  assert.ok(!shapes.has('encoder.down_blocks.3.downsamplers.0.conv.weight') && !shapes.has('decoder.up_blocks.3.upsamplers.0.conv.weight'));

  const got: Record<string, readonly number[]> = {};
  recordParamShapes((params) => {
    const b = new GraphBuilder();
    const { mean, logvar } = vaeEncode({ b, params }, SD15_VAE, b.input('image', [1, 3, 512, 512]));
    got.mean = mean.shape;
    got.logvar = logvar.shape;
    got.decoded = vaeDecode({ b, params }, SD15_VAE, b.input('latents', [1, 4, 64, 64])).shape;
  });
  assert.deepEqual(got, { mean: [1, 4, 64, 64], logvar: [1, 4, 64, 64], decoded: [1, 3, 512, 512] });
});
