import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeTrainingGraph } from '../../src/runtime/autodiff/training-graph.js';
import { Session } from '../../src/runtime/engine/session.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import { isLoraParam, linear } from '../../src/runtime/onnx/layers.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { RandomInit, WeightsSource } from '../../src/runtime/onnx/params.js';

function build(strengthInput: boolean, loraWeights?: Map<string, { dtype: 'float32'; shape: number[]; data: Float32Array }>) {
  const b = new GraphBuilder();
  const x = b.input('x', [2, 5, 8]);
  const strength = strengthInput ? b.input('lora_strength', []) : undefined;
  const lora = { rank: 2, alpha: 4, targets: (p: string) => p.endsWith('to_q'), strength, params: loraWeights ? new WeightsSource(loraWeights) : new RandomInit(9) };
  const m = { b, params: new RandomInit(1), lora };
  const y = linear(m, 'attn.to_v', linear(m, 'attn.to_q', x, 8), 6);
  return { b, y };
}

test('LoRA adapters sit on targeted layers only, start as a no-op, and scale with strength', async () => {
  const { b, y } = build(true);
  const names = [...b.graph.initializers.keys()].filter(isLoraParam);
  assert.deepEqual(names.sort(), ['attn.to_q.lora_down.weight', 'attn.to_q.lora_up.weight']);
  b.output(y, 'y');
  // Give the adapter a nonzero up so strength matters.
  (b.graph.initializers.get('attn.to_q.lora_up.weight')!.data as Float32Array).fill(0.3);
  const s = await Session.fromGraph(b.graph);
  const x = { dtype: 'float32' as const, shape: [2, 5, 8], data: Float32Array.from({ length: 80 }, (_, i) => Math.sin(i)) };
  const at = async (v: number) => (await s.run({ x, lora_strength: { dtype: 'float32', shape: [], data: Float32Array.of(v) } })).y.data as Float32Array;
  const [y0, y1, y2] = [await at(0), await at(1), await at(2)];
  for (let i = 0; i < y0.length; i++) assert.ok(Math.abs(y2[i] - y0[i] - 2 * (y1[i] - y0[i])) < 1e-4, 'output is affine in strength');
  assert.ok(y1.some((v, i) => Math.abs(v - y0[i]) > 1e-3));

  const fresh = build(false);
  fresh.b.output(fresh.y, 'y');
  const s2 = await Session.fromGraph(fresh.b.graph);
  assert.deepEqual((await s2.run({ x })).y.data, y0, 'a fresh adapter (up = 0) changes nothing');
});

test('only LoRA weights train when chosen', () => {
  const { b, y } = build(false);
  const loss = b.output(op.mean(op.mul(y, y)), 'loss');
  const tg = makeTrainingGraph(b.graph, loss.name, { trainable: isLoraParam });
  assert.deepEqual(tg.params.sort(), ['attn.to_q.lora_down.weight', 'attn.to_q.lora_up.weight']);
});
