// `npm run demo`: the project's main job on the embedded default. Until the InstructBooth pipeline and the embedded
// model land (issues 3-8), it shows the engine doing what everything else stands on: it builds the reference mini
// UNet, differentiates it, and trains it to denoise a generated set of shapes on onnxruntime, printing the loss.
import { makeTrainingGraph } from '../src/runtime/autodiff/training-graph.js';
import { Trainer } from '../src/runtime/autodiff/trainer.js';
import { AdamW } from '../src/runtime/engine/optim/adamw.js';
import { makeSchedule } from '../src/runtime/engine/optim/schedule.js';
import { Rng } from '../src/runtime/engine/random.js';
import type { HostTensor } from '../src/runtime/engine/tensor.js';
import { miniUNet } from '../src/runtime/models/mini-unet.js';
import { GraphBuilder } from '../src/runtime/onnx/builder.js';
import * as op from '../src/runtime/onnx/ops/index.js';
import { RandomInit } from '../src/runtime/onnx/params.js';

const B = 4, S = 16, CTX = 32, STEPS = Number(process.env.DEMO_STEPS ?? 200);
const cfg = { c: 32, temb: 64, ctx: CTX, heads: 4, groups: 8 };
const b = new GraphBuilder();
const clean = b.input('clean', [B, 4, S, S]);
const noise = b.input('noise', [B, 4, S, S]);
const sqrtAb = b.input('sqrt_ab', [B, 1, 1, 1]);
const sqrt1mAb = b.input('sqrt_1m_ab', [B, 1, 1, 1]);
const t = b.input('timestep', [B], 'int64');
const ctx = b.input('context', [B, 77, CTX]);
const noisy = op.add(op.mul(clean, sqrtAb), op.mul(noise, sqrt1mAb));
const d = op.sub(miniUNet({ b, params: new RandomInit(0) }, cfg, noisy, t, ctx), noise);
const loss = b.output(op.mean(op.mul(d, d)), 'loss');
const trainer = await Trainer.create(makeTrainingGraph(b.graph, loss.name), new AdamW({ lr: 2e-3, weightDecay: 1e-2 }), { maxGradNorm: 1 });
const lr = makeSchedule({ kind: 'cosine', baseLr: 2e-3, warmupSteps: 10, totalSteps: STEPS });

// A generated "world": one filled square per latent channel at a random place; SD1.5's noise schedule.
const rng = new Rng(1);
const betas = Array.from({ length: 1000 }, (_, i) => (Math.sqrt(0.00085) + (i / 999) * (Math.sqrt(0.012) - Math.sqrt(0.00085))) ** 2);
const ab: number[] = [];
betas.reduce((p, beta) => (ab.push(p * (1 - beta)), p * (1 - beta)), 1);
const f32 = (shape: number[], data: Float32Array): HostTensor => ({ dtype: 'float32', shape, data });
function batch() {
  const x = new Float32Array(B * 4 * S * S).fill(-1);
  for (let i = 0; i < B; i++)
    for (let ch = 0; ch < 4; ch++) {
      const size = 4 + rng.int(6), y0 = rng.int(S - size), x0 = rng.int(S - size);
      for (let y = y0; y < y0 + size; y++) for (let xx = x0; xx < x0 + size; xx++) x[((i * 4 + ch) * S + y) * S + xx] = 1;
    }
  const ts = Array.from({ length: B }, () => rng.int(1000));
  return {
    clean: f32([B, 4, S, S], x),
    noise: f32([B, 4, S, S], rng.fillNormal(new Float32Array(B * 4 * S * S))),
    sqrt_ab: f32([B, 1, 1, 1], Float32Array.from(ts, (k) => Math.sqrt(ab[k]))),
    sqrt_1m_ab: f32([B, 1, 1, 1], Float32Array.from(ts, (k) => Math.sqrt(1 - ab[k]))),
    timestep: { dtype: 'int64' as const, shape: [B], data: BigInt64Array.from(ts, BigInt) },
    context: f32([B, 77, CTX], new Float32Array(B * 77 * CTX)),
  };
}

console.log(`training the reference mini UNet (${trainer.tg.params.length} tensors) to denoise generated shapes, ${STEPS} steps`);
const t0 = performance.now();
let window: number[] = [];
for (let s = 0; s < STEPS; s++) {
  window.push((await trainer.step(batch(), lr(s))).loss);
  if ((s + 1) % 20 === 0) {
    console.log(`step ${String(s + 1).padStart(4)}  loss ${(window.reduce((a, c) => a + c, 0) / window.length).toFixed(4)}`);
    window = [];
  }
}
console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
await trainer.release();
