// Per-op-type time of the train-step benchmark's graphs, from onnxruntime's profiler: where a step's time goes.
// `node --import tsx bench/profile-ops.ts [train|forward]`
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { makeTrainingGraph } from '../src/runtime/autodiff/training-graph.js';
import { Rng } from '../src/runtime/onnx/random.js';
import { toOrt } from '../src/runtime/engine/session.js';
import type { HostTensor } from '../src/runtime/onnx/tensor.js';
import { encodeModel, toModelProto } from '../src/runtime/onnx/graph-proto.js';
import { MINI_UNET_BENCH, miniUNet } from '../src/runtime/models/mini-unet.js';
import { GraphBuilder } from '../src/runtime/onnx/builder.js';
import * as op from '../src/runtime/onnx/ops/index.js';
import { RandomInit } from '../src/runtime/onnx/params.js';

const mode = process.argv[2] ?? 'train';
const b = new GraphBuilder();
const rng = new Rng(0);
const f32 = (shape: number[]): HostTensor => ({ dtype: 'float32', shape, data: rng.fillNormal(new Float32Array(shape.reduce((a, c) => a * c, 1))) });
const feeds: Record<string, HostTensor> = { sample: f32([2, 4, 32, 32]), timestep: { dtype: 'int64', shape: [2], data: BigInt64Array.of(10n, 500n) }, encoder_hidden_states: f32([2, 77, 64]) };
const eps = miniUNet({ b, params: new RandomInit(0) }, MINI_UNET_BENCH, b.input('sample', [2, 4, 32, 32]), b.input('timestep', [2], 'int64'), b.input('encoder_hidden_states', [2, 77, 64]));
let graph = b.graph;
if (mode === 'train') {
  const d = op.sub(eps, b.input('noise', [2, 4, 32, 32]));
  const tg = makeTrainingGraph(b.graph, b.output(op.mean(op.mul(d, d)), 'loss').name);
  graph = tg.graph;
  feeds.noise = f32([2, 4, 32, 32]);
  feeds[tg.seed] = { dtype: 'float32', shape: [], data: Float32Array.of(1) };
  for (const p of tg.params) feeds[p] = tg.initial.get(p)!;
} else b.output(eps, 'out');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ib-prof-'));
const s = await ort.InferenceSession.create(encodeModel(toModelProto(graph)), {
  intraOpNumThreads: 2, graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: path.join(dir, 'p'),
  optimizedModelFilePath: path.join(dir, 'optimized.onnx'),
});
const of = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, toOrt(v)]));
const RUNS = Number(process.env.PROFILE_RUNS ?? 10);
for (let i = 0; i < RUNS + 2; i++) await s.run(of);
s.endProfiling();
const file = fs.readdirSync(dir).find((f) => f.endsWith('.json'))!;
const events = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
const byOp = new Map<string, number>();
let total = 0;
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
  const k = e.args?.op_name ?? '?';
  byOp.set(k, (byOp.get(k) ?? 0) + e.dur);
  total += e.dur;
}
console.log(`${mode}: ${(total / 1000 / (RUNS + 2)).toFixed(1)} ms of kernel time per run`);
for (const [k, v] of [...byOp].sort((a, c) => c[1] - a[1]).slice(0, 25)) console.log(`${k.padEnd(28)} ${(v / 1000 / (RUNS + 2)).toFixed(2).padStart(7)} ms  ${((100 * v) / total).toFixed(1)}%`);
console.log(`optimized model: ${path.join(dir, 'optimized.onnx')}`);

// The slowest nodes, with their shapes (`PROFILE_NODES=N` to list N).
const topN = Number(process.env.PROFILE_NODES ?? 0);
if (topN > 0) {
  const byNode = new Map<string, { op: string; dur: number; shapes: string }>();
  for (const e of events as { cat: string; name: string; dur: number; args?: { op_name?: string; input_type_shape?: unknown; output_type_shape?: unknown } }[]) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const k = e.name.slice(0, -'_kernel_time'.length);
    const r = byNode.get(k) ?? { op: e.args?.op_name ?? '?', dur: 0, shapes: JSON.stringify(e.args?.input_type_shape) + ' -> ' + JSON.stringify(e.args?.output_type_shape) };
    r.dur += e.dur;
    byNode.set(k, r);
  }
  console.log(`${byNode.size} nodes ran`);
  for (const [k, v] of [...byNode].sort((a, c) => c[1].dur - a[1].dur).slice(0, topN))
    console.log(`${(v.dur / 1000 / (RUNS + 2)).toFixed(3).padStart(7)} ms ${v.op.padEnd(16)} ${k.slice(0, 60).padEnd(60)} ${v.shapes.replace(/"float":|\{|\}/g, '').slice(0, 160)}`);
}
if (process.env.PROFILE_RULES) {
  const by = new Map<string, number>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const m = /^grad\/([A-Za-z]+)_/.exec(e.name);
    const k = m ? `grad ${m[1]}` : 'forward';
    by.set(`${k} :: ${e.args?.op_name}`, (by.get(`${k} :: ${e.args?.op_name}`) ?? 0) + e.dur);
    by.set(`${k} :: ALL`, (by.get(`${k} :: ALL`) ?? 0) + e.dur);
  }
  for (const [k, v] of [...by].sort((a, c) => c[1] - a[1]).slice(0, 60)) console.log(`${(v / 1000 / (RUNS + 2)).toFixed(2).padStart(7)} ms  ${k}`);
}
// Each node's fastest run, summed: a figure that load from other processes barely moves (for A/B comparisons).
{
  const best = new Map<string, number>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    best.set(e.name, Math.min(best.get(e.name) ?? Infinity, e.dur));
  }
  let sum = 0;
  for (const v of best.values()) sum += v;
  console.log(`sum of per-node best kernel times: ${(sum / 1000).toFixed(2)} ms over ${best.size} nodes`);
}
