// `npm run bench -- gpu`: the WebGPU provider against the CPU provider on the same machine, in one run: the mini
// UNet's training step (batch 2, latent 4x32x32, the train-step bench's network), the SD1.5 UNet forward (batch 1,
// 4x64x64, random weights) and, on WebGPU only, the SD1.5 LoRA training step with gradient checkpointing (rank 4).
// Medians after a warm-up; the adapter is the one Dawn gets (docs/webgpu.md). BENCH_GPU_SIZE=tiny shrinks every
// network to toy sizes, for a smoke run on a software adapter (lavapipe), where WebGPU is far slower than the CPU.
// Last line: JSON {"adapter", "train_step_ms", "sd_forward_ms", "sd_lora_step_s", "cpu_train_step_ms",
// "cpu_sd_forward_ms"}.
//   npm run bench -- gpu        (Linux: libvulkan1 and the GPU's Vulkan driver; nothing else to install)
import { makeTrainingGraph } from '../src/runtime/autodiff/training-graph.js';
import { Trainer } from '../src/runtime/autodiff/trainer.js';
import { describeAdapter } from '../src/runtime/engine/gpu-adapter.js';
import { FusedAdamW } from '../src/runtime/engine/optim/fused-adamw.js';
import { Rng } from '../src/runtime/onnx/random.js';
import { deviceDescription, type ExecutionProvider, Session } from '../src/runtime/engine/session.js';
import type { HostTensor } from '../src/runtime/onnx/tensor.js';
import { SD15_UNET, TINY_UNET, type UNetConfig } from '../src/runtime/models/configs.js';
import { MINI_UNET_BENCH, miniUNet } from '../src/runtime/models/mini-unet.js';
import { loraConfigFor } from '../src/runtime/models/sd-pipeline.js';
import { unet } from '../src/runtime/models/unet.js';
import { GraphBuilder, type Sym } from '../src/runtime/onnx/builder.js';
import { isLoraParam } from '../src/runtime/onnx/layers.js';
import * as op from '../src/runtime/onnx/ops/index.js';
import { RandomInit } from '../src/runtime/onnx/params.js';
import { freshLora } from '../src/runtime/training/lora-init.js';

const tiny = process.env.BENCH_GPU_SIZE === 'tiny';
const RUNS = Number(process.env.BENCH_RUNS ?? (tiny ? 2 : 5));
const THREADS = 2;
/** Mini UNet latent side and the SD UNet's config and latent side. */
const MINI = tiny ? 8 : 32;
const SD: UNetConfig = tiny ? TINY_UNET : SD15_UNET;
const SD_SIZE = tiny ? 8 : 64;

const { adapter } = deviceDescription('webgpu');
console.error(`adapter: ${describeAdapter(adapter!)}${tiny ? ' (tiny sizes)' : ''}`);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const rng = new Rng(0);
const randn = (shape: number[]): HostTensor => ({ dtype: 'float32', shape, data: rng.fillNormal(new Float32Array(shape.reduce((a, c) => a * c, 1))) });

async function timed(runs: number, once: () => Promise<unknown>): Promise<number> {
  await once();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await once();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

/** UNet inputs (and the noise a training loss compares with) for a batch and latent side. */
function unetFeeds(batch: number, side: number, contextDim: number) {
  return {
    sample: randn([batch, 4, side, side]),
    timestep: { dtype: 'int64' as const, shape: [batch], data: BigInt64Array.from({ length: batch }, (_, i) => BigInt(10 + 490 * i)) },
    encoder_hidden_states: randn([batch, 77, contextDim]),
    noise: randn([batch, 4, side, side]),
  };
}

function lossGraph(build: (b: GraphBuilder, s: ReturnType<typeof unetInputs>) => Sym, batch: number, side: number, contextDim: number) {
  const b = new GraphBuilder();
  const s = unetInputs(b, batch, side, contextDim);
  const d = op.sub(build(b, s), b.input('noise', [batch, 4, side, side]));
  b.output(op.mean(op.mul(d, d)), 'loss');
  return b.graph;
}

function unetInputs(b: GraphBuilder, batch: number, side: number, contextDim: number) {
  return {
    sample: b.input('sample', [batch, 4, side, side]),
    timestep: b.input('timestep', [batch], 'int64'),
    context: b.input('encoder_hidden_states', [batch, 77, contextDim]),
  };
}

async function miniTrainStepMs(provider: ExecutionProvider): Promise<number> {
  const graph = lossGraph((b, s) => miniUNet({ b, params: new RandomInit(0) }, MINI_UNET_BENCH, s.sample, s.timestep, s.context), 2, MINI, 64);
  const session = { provider, threads: THREADS };
  const trainer = await Trainer.create(makeTrainingGraph(graph, 'loss'), FusedAdamW.create({ lr: 1e-4, weightDecay: 1e-2, session }), { session });
  const feeds = unetFeeds(2, MINI, 64);
  try {
    return await timed(RUNS, () => trainer.step(feeds));
  } finally {
    await trainer.release();
  }
}

async function sdForwardMs(provider: ExecutionProvider): Promise<number> {
  const b = new GraphBuilder();
  const s = unetInputs(b, 1, SD_SIZE, SD.crossAttentionDim);
  b.output(unet({ b, params: new RandomInit(0) }, SD, s.sample, s.timestep, s.context), 'out_sample');
  const session = await Session.fromGraph(b.graph, { provider, threads: THREADS });
  const { noise: _, ...feeds } = unetFeeds(1, SD_SIZE, SD.crossAttentionDim);
  try {
    return await timed(Math.min(RUNS, 3), () => session.run(feeds));
  } finally {
    await session.release();
  }
}

async function sdLoraStepS(provider: ExecutionProvider): Promise<number> {
  const lora = loraConfigFor(freshLora(SD, { rank: 4, alpha: 4, seed: 0 }));
  const graph = lossGraph((b, s) => unet({ b, params: new RandomInit(0), lora }, SD, s.sample, s.timestep, s.context), 1, SD_SIZE, SD.crossAttentionDim);
  const tg = makeTrainingGraph(graph, 'loss', { trainable: isLoraParam, gradientCheckpointing: true });
  const session = { provider, threads: THREADS };
  const trainer = await Trainer.create(tg, FusedAdamW.create({ lr: 1e-4, weightDecay: 1e-2, session }), { session });
  const feeds = unetFeeds(1, SD_SIZE, SD.crossAttentionDim);
  try {
    return (await timed(Math.min(RUNS, 2), () => trainer.step(feeds))) / 1000;
  } finally {
    await trainer.release();
  }
}

const r3 = (x: number) => Number(x.toFixed(3));
const result = {
  adapter: `${adapter!.name} (${adapter!.vendor}, ${adapter!.backend})`,
  train_step_ms: r3(await miniTrainStepMs('webgpu')),
  sd_forward_ms: r3(await sdForwardMs('webgpu')),
  sd_lora_step_s: r3(await sdLoraStepS('webgpu')),
  cpu_train_step_ms: r3(await miniTrainStepMs('cpu')),
  cpu_sd_forward_ms: r3(await sdForwardMs('cpu')),
};
console.log(`\n| | WebGPU | CPU (${THREADS} threads) | CPU / WebGPU |\n|---|---|---|---|`);
console.log(`| mini UNet training step, ms | ${result.train_step_ms} | ${result.cpu_train_step_ms} | ${r3(result.cpu_train_step_ms / result.train_step_ms)} |`);
console.log(`| ${tiny ? 'tiny' : 'SD1.5'} UNet forward, ms | ${result.sd_forward_ms} | ${result.cpu_sd_forward_ms} | ${r3(result.cpu_sd_forward_ms / result.sd_forward_ms)} |`);
console.log(`| ${tiny ? 'tiny' : 'SD1.5'} LoRA step with checkpointing, s | ${result.sd_lora_step_s} | | |\n`);
console.log(JSON.stringify(result));
