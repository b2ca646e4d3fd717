// Per-op-type time of the train-step benchmark's graphs, from onnxruntime's profiler: where a step's time goes.
// `node --import tsx bench/profile-ops.ts [train|forward]`
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { makeTrainingGraph } from '../src/runtime/autodiff/training-graph.js';
import { Rng } from '../src/runtime/engine/random.js';
import { toOrt } from '../src/runtime/engine/session.js';
import type { HostTensor } from '../src/runtime/engine/tensor.js';
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
const RUNS = 10;
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
