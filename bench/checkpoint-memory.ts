// Peak memory of one training step with and without gradient checkpointing (docs/checkpointing.md). Each
// configuration runs in a fresh child process, since a process's peak RSS only grows: the child builds the training
// graph, opens the session, notes its RSS, runs five forward+backward passes and reports its peak RSS (and the time
// of the last three: run it alone, e.g. under an exclusive lock, for times worth comparing).
//   node --import tsx bench/checkpoint-memory.ts [sd|mini] [batch] [latent side]
// Models: `sd`, SD1.5's UNet code at small widths (32/64/64 channels, attention at the middle level as SD has none at
// the top here, 19 resnets and 4 transformers); `mini`, the engine's reference network (5 blocks). Defaults: sd,
// batch 2, 64x64 latents. Last line: JSON.
import { execFileSync } from 'node:child_process';
import { makeTrainingGraph } from '../src/runtime/autodiff/training-graph.js';
import { Trainer } from '../src/runtime/autodiff/trainer.js';
import { SGD } from '../src/runtime/engine/optim/sgd.js';
import { Rng } from '../src/runtime/onnx/random.js';
import type { HostTensor } from '../src/runtime/onnx/tensor.js';
import { TINY_UNET, type UNetConfig } from '../src/runtime/models/configs.js';
import { MINI_UNET_BENCH, miniUNet } from '../src/runtime/models/mini-unet.js';
import { unet } from '../src/runtime/models/unet.js';
import { GraphBuilder } from '../src/runtime/onnx/builder.js';
import * as op from '../src/runtime/onnx/ops/index.js';
import { RandomInit } from '../src/runtime/onnx/params.js';

const mb = (kb: number) => Math.round(kb / 1024);
const SMALL_SD: UNetConfig = {
  ...TINY_UNET, blockOutChannels: [32, 64, 64], attentionHeads: 4, normNumGroups: 32, crossAttentionDim: 64,
  downBlockTypes: ['DownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'], upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
};

async function child(model: string, batch: number, side: number, checkpointing: boolean) {
  const b = new GraphBuilder();
  const ctxShape = [batch, 77, model === 'mini' ? MINI_UNET_BENCH.ctx : SMALL_SD.crossAttentionDim];
  const sample = b.input('sample', [batch, 4, side, side]);
  const t = b.input('timestep', [batch], 'int64');
  const ctx = b.input('encoder_hidden_states', ctxShape);
  const m = { b, params: new RandomInit(0) };
  const eps = model === 'mini' ? miniUNet(m, MINI_UNET_BENCH, sample, t, ctx) : unet(m, SMALL_SD, sample, t, ctx);
  const d = op.sub(eps, b.input('noise', [batch, 4, side, side]));
  b.output(op.mean(op.mul(d, d)), 'loss');
  const tg = makeTrainingGraph(b.graph, 'loss', { gradientCheckpointing: checkpointing });
  const trainer = await Trainer.create(tg, new SGD({ lr: 0 }), { session: { threads: 2 } });
  const rng = new Rng(0);
  const f32 = (shape: number[]): HostTensor => ({ dtype: 'float32', shape, data: rng.fillNormal(new Float32Array(shape.reduce((a, c) => a * c, 1))) });
  const feeds = {
    sample: f32([batch, 4, side, side]),
    timestep: { dtype: 'int64' as const, shape: [batch], data: BigInt64Array.from({ length: batch }, (_, i) => BigInt(10 + 97 * i)) },
    encoder_hidden_states: f32(ctxShape),
    noise: f32([batch, 4, side, side]),
  };
  const before = process.resourceUsage().maxRSS;
  // The first run plans memory, the second uses the plan (onnxruntime's memory pattern); time the ones after.
  let loss = 0;
  for (let i = 0; i < 2; i++) loss = (await trainer.gradients(feeds)).loss;
  const t0 = performance.now();
  for (let i = 0; i < 3; i++) await trainer.gradients(feeds);
  const ms = (performance.now() - t0) / 3;
  const peak = process.resourceUsage().maxRSS;
  const plan = tg.checkpointing?.plan;
  console.log(JSON.stringify({
    checkpointing, nodes: tg.graph.nodes.length, segments: plan?.segments.length ?? 1, loss,
    rss_before_mb: mb(before), peak_rss_mb: mb(peak), step_mb: mb(peak - before), ms_per_step: Math.round(ms),
    estimate_mb: plan && { kept: Math.round(plan.estimate.kept / 2 ** 20), largest: Math.round(plan.estimate.largest / 2 ** 20), none: Math.round(plan.estimate.none / 2 ** 20) },
  }));
  await trainer.release();
}

const args = process.argv.slice(2);
if (args[0] === '--child') await child(args[1], Number(args[2]), Number(args[3]), args[4] === 'on');
else {
  const [model = 'sd', batch = '2', side = '64'] = args;
  const results = ['off', 'on'].map((mode) => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--child', model, batch, side, mode], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    console.log(`${model} batch ${batch} ${side}x${side}, checkpointing ${mode}: peak RSS ${r.peak_rss_mb} MB (${r.rss_before_mb} MB before the step, +${r.step_mb} MB in it), ${r.ms_per_step} ms/step, ${r.segments} segments, ${r.nodes} nodes`);
    return r;
  });
  console.log(JSON.stringify({ model, batch: Number(batch), side: Number(side), off: results[0], on: results[1] }));
}
