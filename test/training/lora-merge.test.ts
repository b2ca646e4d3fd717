import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Session } from '../../src/runtime/engine/session.js';
import { type HostTensor, tensor } from '../../src/runtime/onnx/tensor.js';
import { TINY_UNET, type UNetConfig } from '../../src/runtime/models/configs.js';
import { initWeights } from '../../src/runtime/models/blocks.js';
import { LORA_TARGETS, loraConfigFor, type LoraWeights } from '../../src/runtime/models/sd-pipeline.js';
import { unet, unetParamShapes } from '../../src/runtime/models/unet.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import { RandomInit, WeightsSource } from '../../src/runtime/onnx/params.js';
import { freshLora, loraTargetShapes } from '../../src/runtime/training/lora-init.js';
import { mergeLora } from '../../src/runtime/training/lora-merge.js';

// Two levels (self- and cross-attention at the top): small sessions, every kind of adapted projection.
const cfg: UNetConfig = {
  ...TINY_UNET, blockOutChannels: [8, 16], layersPerBlock: 1, attentionHeads: 2, crossAttentionDim: 12,
  downBlockTypes: ['CrossAttnDownBlock2D', 'DownBlock2D'], upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D'],
};
const weights = initWeights((params) => {
  const b = new GraphBuilder();
  unet({ b, params }, cfg, b.input('s', [1, 4, 4, 4]), b.input('t', [1]), b.input('c', [1, 3, 12]));
}, new RandomInit(11));
const wave = (n: number, f: number) => Float32Array.from({ length: n }, (_, i) => 0.2 * Math.sin(f * i + 0.3));

/** An adapter with nonzero halves everywhere (a fresh one is a no-op), rank 2, alpha 3 (scale 1.5). */
function trainedLora(): LoraWeights {
  const l = freshLora(cfg, { rank: 2, alpha: 3, seed: 4 });
  for (const [k, t] of l.weights) if (k.endsWith('lora_up.weight')) t.data = wave(t.data.length, 1.3);
  return l;
}

async function forward(w: Map<string, HostTensor>, lora?: LoraWeights, strength?: number): Promise<Float32Array> {
  const b = new GraphBuilder();
  const s = b.input('sample', [2, 4, 8, 8]);
  const t = b.input('timestep', [2]);
  const c = b.input('context', [2, 5, 12]);
  const lc = lora ? loraConfigFor(lora, strength === undefined ? undefined : b.input('lora_strength', [])) : undefined;
  b.output(unet({ b, params: new WeightsSource(w), lora: lc }, cfg, s, t, c), 'eps');
  const sess = await Session.fromGraph(b.graph, { threads: 1 });
  const feeds: Record<string, HostTensor> = {
    sample: tensor('float32', [2, 4, 8, 8], wave(512, 0.7)),
    timestep: tensor('float32', [2], Float32Array.of(10, 700)),
    context: tensor('float32', [2, 5, 12], wave(120, 2.1).map((v) => 5 * v)),
  };
  if (strength !== undefined) feeds.lora_strength = tensor('float32', [], Float32Array.of(strength));
  const out = (await sess.run(feeds)).eps.data as Float32Array;
  await sess.release();
  return out;
}

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

test('a merged LoRA gives the UNet output of the adapter, at strength 1 and at other strengths', async () => {
  const lora = trainedLora();
  const plain = await forward(weights);
  const withAdapter = await forward(weights, lora);
  const merged = await forward(mergeLora(weights, lora));
  assert.ok(maxAbs(withAdapter, plain) > 1e-2, 'the adapter matters');
  assert.ok(maxAbs(merged, withAdapter) < 1e-5, `merged vs adapter: ${maxAbs(merged, withAdapter)}`);
  const half = await forward(weights, lora, 0.4);
  assert.ok(maxAbs(await forward(mergeLora(weights, lora, 0.4)), half) < 1e-5);
});

test('merging touches only adapted weights and checks the adapter', () => {
  const lora = trainedLora();
  const merged = mergeLora(weights, lora);
  assert.equal(merged.size, weights.size);
  let changed = 0;
  for (const [k, t] of weights) {
    const adapted = LORA_TARGETS.test(k.replace(/\.weight$/, '')) && k.endsWith('.weight');
    if (adapted) {
      changed++;
      assert.notEqual(merged.get(k), t);
    } else assert.equal(merged.get(k), t, `${k} shared, not copied`);
  }
  assert.equal(changed, lora.weights.size / 2);
  // W' - W = (alpha/rank) up @ down, checked on one entry.
  const [prefix] = loraTargetShapes(cfg).keys();
  const [w0, w1] = [weights.get(`${prefix}.weight`)!, merged.get(`${prefix}.weight`)!];
  const [d, u] = [lora.weights.get(`${prefix}.lora_down.weight`)!, lora.weights.get(`${prefix}.lora_up.weight`)!];
  const inF = w0.shape[1];
  const [o, i] = [1, 2];
  const want = 1.5 * ((u.data[o * 2] as number) * (d.data[i] as number) + (u.data[o * 2 + 1] as number) * (d.data[inF + i] as number));
  assert.ok(Math.abs((w1.data[o * inF + i] as number) - (w0.data[o * inF + i] as number) - want) < 1e-6);
  assert.equal((weights.get(`${prefix}.weight`)!.data as Float32Array)[0], (w0.data as Float32Array)[0], 'input untouched');

  const half = { ...lora, weights: new Map([...lora.weights].filter(([k]) => !k.endsWith('lora_up.weight'))) };
  assert.throws(() => mergeLora(weights, half), /no lora_up/);
  const wrong = { ...lora, weights: new Map([['nowhere.lora_down.weight', d], ['nowhere.lora_up.weight', u]]) };
  assert.throws(() => mergeLora(weights, wrong), /no 'nowhere.weight'/);
});

test('fresh adapters: one pair per attention projection, down random, up zero, seeded', () => {
  const a = freshLora(cfg, { rank: 3, seed: 1 });
  const b = freshLora(cfg, { rank: 3, seed: 1 });
  const c = freshLora(cfg, { rank: 3, seed: 2 });
  const projections = [...unetParamShapes(cfg).keys()].filter((k) => /\.attn[12]\.(to_q|to_k|to_v|to_out\.0)\.weight$/.test(k));
  assert.ok(projections.length > 0);
  assert.equal(a.weights.size, 2 * projections.length);
  assert.deepEqual([a.rank, a.alpha], [3, 3]);
  for (const p of projections) {
    const prefix = p.replace(/\.weight$/, '');
    const [outF, inF] = unetParamShapes(cfg).get(p)!;
    const down = a.weights.get(`${prefix}.lora_down.weight`)!;
    const up = a.weights.get(`${prefix}.lora_up.weight`)!;
    assert.deepEqual([down.shape, up.shape], [[3, inF], [outF, 3]]);
    assert.ok((up.data as Float32Array).every((v) => v === 0));
    assert.deepEqual(down.data, b.weights.get(`${prefix}.lora_down.weight`)!.data);
    assert.notDeepEqual(down.data, c.weights.get(`${prefix}.lora_down.weight`)!.data);
  }
  let s2 = 0, n = 0;
  for (const [k, t] of a.weights) if (k.endsWith('lora_down.weight')) for (const v of t.data as Float32Array) { s2 += v * v; n++; }
  assert.ok(Math.abs(Math.sqrt(s2 / n) - 1 / 3) < 0.03, 'down ~ N(0, (1/rank)^2)');
});
