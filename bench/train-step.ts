// Training-step benchmark: the reference mini UNet (MINI_UNET_BENCH, the network of scripts/torch/mini_unet.py) built
// with the project's graph builder, batch 2, latent 4x32x32, 77x64 context, MSE loss, AdamW; side by side with the
// PyTorch reference (scripts/torch/bench_train_step.py) in the same run when /usr/bin/python3 has torch.
// Last line: JSON.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { makeTrainingGraph } from '../src/runtime/autodiff/training-graph.js';
import { Trainer } from '../src/runtime/autodiff/trainer.js';
import { FusedAdamW } from '../src/runtime/engine/optim/fused-adamw.js';
import { Rng } from '../src/runtime/onnx/random.js';
import { Session } from '../src/runtime/engine/session.js';
import type { HostTensor } from '../src/runtime/onnx/tensor.js';
import { MINI_UNET_BENCH, miniUNet } from '../src/runtime/models/mini-unet.js';
import { GraphBuilder } from '../src/runtime/onnx/builder.js';
import * as op from '../src/runtime/onnx/ops/index.js';
import { RandomInit } from '../src/runtime/onnx/params.js';
import { graphFlops } from './flops.js';

const STEPS = Number(process.env.BENCH_STEPS ?? 30);
const WARMUP = 3;
const THREADS = 2;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

function build(training: boolean) {
  const b = new GraphBuilder();
  const sample = b.input('sample', [2, 4, 32, 32]);
  const t = b.input('timestep', [2], 'int64');
  const ctx = b.input('encoder_hidden_states', [2, 77, 64]);
  const eps = miniUNet({ b, params: new RandomInit(0) }, MINI_UNET_BENCH, sample, t, ctx);
  if (!training) {
    b.output(eps, 'out_sample');
    return b.graph;
  }
  const noise = b.input('noise', [2, 4, 32, 32]);
  const d = op.sub(eps, noise);
  b.output(op.mean(op.mul(d, d)), 'loss');
  return b.graph;
}

const rng = new Rng(0);
const f32 = (shape: number[]): HostTensor => ({ dtype: 'float32', shape, data: rng.fillNormal(new Float32Array(shape.reduce((a, c) => a * c, 1))) });
const inputs = {
  sample: f32([2, 4, 32, 32]),
  timestep: { dtype: 'int64' as const, shape: [2], data: BigInt64Array.of(10n, 500n) },
  encoder_hidden_states: f32([2, 77, 64]),
};
const noise = f32([2, 4, 32, 32]);

const tg = makeTrainingGraph(build(true), 'loss');
const params = tg.params.reduce((n, p) => n + tg.initial.get(p)!.data.length, 0);
const trainer = await Trainer.create(tg, FusedAdamW.create({ lr: 1e-4, weightDecay: 1e-2, session: { threads: THREADS } }), { session: { threads: THREADS } });
const fwdGraph = build(false);
const forward = await Session.fromGraph(fwdGraph, { threads: THREADS });

// Engine and PyTorch take turns in rounds, so that a change in the machine's load hits both alike.
const ROUNDS = 3;
const stepMs: number[] = [];
const fwdMs: number[] = [];
const torchStep: number[] = [];
const torchFwd: number[] = [];
let torchVersion: string | undefined;
/** Each round's engine / PyTorch ratio of median step times. */
const roundRatios: number[] = [];
let loss = 0;
const script = path.join(import.meta.dirname, '../scripts/torch/bench_train_step.py');
const haveTorch = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
for (let round = 0; round < ROUNDS; round++) {
  const per = Math.ceil(STEPS / ROUNDS);
  for (let i = 0; i < (round === 0 ? WARMUP : 0) + per; i++) {
    let t0 = performance.now();
    loss = (await trainer.step({ ...inputs, noise })).loss;
    const s = performance.now() - t0;
    t0 = performance.now();
    await forward.run(inputs);
    const f = performance.now() - t0;
    if (round > 0 || i >= WARMUP) { stepMs.push(s); fwdMs.push(f); }
  }
  if (!haveTorch) continue;
  const out = execFileSync('/usr/bin/python3', [script, '--threads', String(THREADS), '--steps', String(per), '--warmup', String(WARMUP), '--all'], {
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
    encoding: 'utf8',
  });
  const r = JSON.parse(out.trim().split('\n').pop()!);
  const ours = median(stepMs.slice(-per));
  roundRatios.push(ours / median(r.step_ms));
  console.log(`round ${round + 1}: engine ${ours.toFixed(1)} ms, pytorch ${median(r.step_ms).toFixed(1)} ms, ratio ${roundRatios.at(-1)!.toFixed(2)}x`);
  torchStep.push(...r.step_ms);
  torchFwd.push(...r.forward_ms);
  torchVersion = r.torch_version;
}
// Where the time goes: one step split into the session run (forward + backward) and the optimizer.
const t0 = performance.now();
const { grads } = await trainer.gradients({ ...inputs, noise });
const t1 = performance.now();
await trainer.apply(grads);
const t2 = performance.now();

const msPerStep = median(stepMs);
const forwardMs = median(fwdMs);
const trainFlops = graphFlops(tg.graph);
const peakRssMb = process.resourceUsage().maxRSS / 1024;
console.log(`instructbooth engine: params=${params} threads=${THREADS} steps=${stepMs.length} in ${ROUNDS} rounds alternating with PyTorch, loss=${loss.toFixed(5)}`);
console.log(`train step median=${msPerStep.toFixed(1)} ms (session ${(t1 - t0).toFixed(1)} ms + AdamW ${(t2 - t1).toFixed(1)} ms), forward-only median=${forwardMs.toFixed(1)} ms`);
console.log(`training graph: ${tg.graph.nodes.length} nodes, ${(trainFlops / 1e9).toFixed(2)} GFLOP/step -> ${(trainFlops / 1e6 / msPerStep).toFixed(1)} GFLOP/s; forward ${(graphFlops(fwdGraph) / 1e6 / forwardMs).toFixed(1)} GFLOP/s; peak RSS ${peakRssMb.toFixed(0)} MB`);

const torch = haveTorch ? { torch_ms_per_step: median(torchStep), torch_forward_ms: median(torchFwd) } : undefined;
if (torch) console.log(`pytorch ${torchVersion} reference: train step median=${torch.torch_ms_per_step.toFixed(1)} ms, forward-only median=${torch.torch_forward_ms.toFixed(1)} ms`);
else console.log('pytorch reference: not run (/usr/bin/python3 with torch not found; apt-get install python3-torch libopenblas0-pthread)');
// The JSON's ratio: the median of the rounds' ratios (each round's engine and PyTorch steps ran minutes apart at most).
const ratio = torch ? median(roundRatios) : null;
if (ratio !== null) console.log(`ratio engine/pytorch: train step ${ratio.toFixed(2)}x (median of the rounds), forward ${(forwardMs / torch!.torch_forward_ms).toFixed(2)}x`);
console.log(JSON.stringify({
  ms_per_step: +msPerStep.toFixed(2), forward_ms: +forwardMs.toFixed(2), peak_rss_mb: +peakRssMb.toFixed(1),
  gflops_per_s: +(trainFlops / 1e6 / msPerStep).toFixed(1), torch_ms_per_step: torch?.torch_ms_per_step ?? null,
  torch_forward_ms: torch?.torch_forward_ms ?? null, ratio: ratio === null ? null : +ratio.toFixed(3),
}));
await trainer.release();
await forward.release();
