// SD1.5 UNet inference benchmark: one forward at full size (batch 1, 4x64x64 latent = a 512 px image, 77x768
// context), random weights, CPU, 2 threads; median of a few runs after a warm-up, the process's peak RSS, and the
// start-up (graph build with its random weights, plus session creation). The same forward through the PyTorch port
// (scripts/torch/sd_modules.py, float32) in the same run when /usr/bin/python3 has torch, in its own process: its
// peak RSS and model construction time beside ours. Last line: JSON {"ms", "peak_rss_mb", "torch_ms", ...}.
//   BENCH_RUNS=3  BENCH_WEIGHTS=auto|shared|copied (SessionOptions.weights; 'copied' is how sessions held weights before)
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Rng } from '../src/runtime/onnx/random.js';
import { Session } from '../src/runtime/engine/session.js';
import type { HostTensor } from '../src/runtime/onnx/tensor.js';
import { SD15_UNET } from '../src/runtime/models/configs.js';
import { unet } from '../src/runtime/models/unet.js';
import { GraphBuilder } from '../src/runtime/onnx/builder.js';
import { RandomInit } from '../src/runtime/onnx/params.js';
import { graphFlops } from './flops.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const THREADS = 2;
const SIZE = 64;
const WEIGHTS = (process.env.BENCH_WEIGHTS ?? 'auto') as 'auto' | 'shared' | 'copied';
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const MB = 2 ** 20;

let t0 = performance.now();
const b = new GraphBuilder();
const sample = b.input('sample', [1, 4, SIZE, SIZE]);
const timestep = b.input('timestep', [1], 'int64');
const context = b.input('encoder_hidden_states', [1, 77, SD15_UNET.crossAttentionDim]);
b.output(unet({ b, params: new RandomInit(0) }, SD15_UNET, sample, timestep, context), 'out_sample');
const buildS = (performance.now() - t0) / 1000;
const flops = graphFlops(b.graph);
t0 = performance.now();
const session = await Session.fromGraph(b.graph, { threads: THREADS, weights: WEIGHTS });
const sessionS = (performance.now() - t0) / 1000;
let weightsMb = 0;
for (const t of b.graph.initializers.values()) weightsMb += t.data.byteLength / MB;

const rng = new Rng(1);
const randn = (shape: number[]): HostTensor => ({ dtype: 'float32', shape, data: rng.fillNormal(new Float32Array(shape.reduce((a, c) => a * c, 1))) });
const feeds = {
  sample: randn([1, 4, SIZE, SIZE]),
  timestep: { dtype: 'int64' as const, shape: [1], data: BigInt64Array.of(500n) },
  encoder_hidden_states: randn([1, 77, SD15_UNET.crossAttentionDim]),
};
const runs: number[] = [];
for (let i = 0; i <= RUNS; i++) {
  const t = performance.now();
  await session.run(feeds);
  if (i > 0) runs.push(performance.now() - t);
}
const ms = median(runs);
const peakRssMb = process.resourceUsage().maxRSS / 1024;
await session.release();
console.log(`instructbooth engine: SD1.5 UNet forward, batch 1, ${SIZE}x${SIZE} latent, ${THREADS} threads: median ${ms.toFixed(0)} ms over ${RUNS} runs [${runs.map((r) => r.toFixed(0)).join(', ')}]`);
console.log(`graph: ${b.graph.nodes.length} nodes, ${(flops / 1e9).toFixed(1)} GFLOP -> ${(flops / 1e6 / ms).toFixed(1)} GFLOP/s; weights ${weightsMb.toFixed(0)} MB, ${session.sharedWeights.length ? `${session.sharedWeights.length} shared with the session (held once)` : 'copied into the session'} (weights: '${WEIGHTS}')`);

let torch: { torch_ms: number; torch_runs_ms: number[]; torch_peak_rss_mb: number; torch_build_s: number; torch_version: string } | undefined;
try {
  execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
  const out = execFileSync('/usr/bin/python3', [path.join(import.meta.dirname, '../scripts/torch/sd_modules.py'), '--bench-unet', '--threads', String(THREADS), '--runs', String(RUNS), '--size', String(SIZE)], {
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  torch = JSON.parse(out.trim().split('\n').pop()!);
} catch {
  console.log('pytorch reference: not run (/usr/bin/python3 with torch not found; apt-get install python3-torch)');
}
const vs = (ours: string, theirs: string | undefined) => (theirs === undefined ? ours : `${ours}, pytorch ${theirs}`);
if (torch) console.log(`pytorch ${torch.torch_version} (scripts/torch/sd_modules.py, float32): median ${torch.torch_ms.toFixed(0)} ms [${torch.torch_runs_ms.map((r) => r.toFixed(0)).join(', ')}]; ratio engine/pytorch ${(ms / torch.torch_ms).toFixed(2)}x`);
console.log(`peak RSS: engine ${vs(`${peakRssMb.toFixed(0)} MB`, torch && `${torch.torch_peak_rss_mb.toFixed(0)} MB`)}`);
console.log(`start-up: engine build ${buildS.toFixed(1)} s + session ${sessionS.toFixed(1)} s = ${(buildS + sessionS).toFixed(1)} s${torch ? `, pytorch model construction ${torch.torch_build_s.toFixed(1)} s` : ''}`);
console.log(JSON.stringify({
  ms: +ms.toFixed(1), peak_rss_mb: +peakRssMb.toFixed(0), torch_ms: torch ? +torch.torch_ms.toFixed(1) : null,
  gflop: +(flops / 1e9).toFixed(1), runs_ms: runs.map((r) => +r.toFixed(1)), torch_peak_rss_mb: torch ? +torch.torch_peak_rss_mb.toFixed(0) : null,
  build_s: +buildS.toFixed(2), session_s: +sessionS.toFixed(2), torch_build_s: torch ? +torch.torch_build_s.toFixed(2) : null,
  weights: WEIGHTS, shared_weights: session.sharedWeights.length, weights_mb: +weightsMb.toFixed(0),
}));
