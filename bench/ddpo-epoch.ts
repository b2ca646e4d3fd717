// DDPO throughput: one epoch of the demo's RL recipe (WORLD_RECIPE.ddpo, what workflows/instructbooth.json's DDPOUpdate
// runs: 160 samples of the 10 mixed prompts in batches of 16, 20 DDIM steps at eta 1 and guidance 5 with every step's
// log-probability, the world's oracle reward, then 10 minibatches of 16 x 10 timesteps of the clipped PPO loss with the
// KL term (a second, adapter-free UNet run), gradients averaged over 5 minibatches, 2 AdamW updates; LoRA rank 4 on
// every attention projection) through the engine's own training function, trainDdpo, the one the DDPOUpdate node
// calls, on the embedded model (its base UNet and a fresh adapter: the demo starts from its DreamBooth UNet, the same
// architecture and shapes). Then the same epoch in PyTorch (scripts/torch/ddpo_epoch.py: the embedded model's networks
// and weights, ddpo-pytorch's DDIM with log-probabilities), side by side, both on 2 intra-op threads.
//
// The engine's first epoch builds its sessions and is not counted; after each later one (BENCH_EPOCHS, default 4, so
// 3 counted) PyTorch runs one epoch (after an untimed warm-up step), so that a change in the machine's load hits both
// alike; each side reports the median of its counted epochs, per phase.
// The reward (the oracle, pixel code in JS) is timed on its own and left out of both sides' sampling times: the
// PyTorch port has no oracle. Per phase, the engine's time is measured by wrapping the pipeline's and the trainer's
// methods (text encoder, sampling UNet, VAE decode, reward, KL reference UNet, training session run, AdamW); what is
// left over is host work in ddpo.ts and the sampler (DDIM steps, trajectory copies, feeds).
//   npm run bench -- ddpo-epoch          (BENCH_SAMPLES=32 for a short development run: a multiple of 16)
// Last line: JSON {"ms_sample","ms_train","torch_ms_sample","torch_ms_train","ratio"} (ratio: engine epoch / PyTorch
// epoch, sampling + training, reward excluded).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Trainer } from '../src/runtime/autodiff/trainer.js';
import type { ImageBatch } from '../src/runtime/engine/image.js';
import type { HostTensor } from '../src/runtime/onnx/tensor.js';
import { loadSdModel } from '../src/runtime/models/sd-model.js';
import { SdPipeline } from '../src/runtime/models/sd-pipeline.js';
import { type EpochStats, trainDdpo } from '../src/runtime/training/ddpo.js';
import { WORLD_RECIPE as R } from '../src/runtime/world/recipe.js';
import { subjectById, subjectPrompts, WorldOracle } from '../src/runtime/world/index.js';

const THREADS = 2;
// The Python with torch (BENCH_PYTHON to point elsewhere; one without torch gives the engine's numbers and null torch fields).
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? R.ddpo.samplesPerEpoch);
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 4);
if (!(Number.isInteger(SAMPLES) && SAMPLES > 0 && SAMPLES % R.ddpo.trainBatch === 0)) throw new Error(`BENCH_SAMPLES ${SAMPLES}: a multiple of ${R.ddpo.trainBatch}`);
if (!(Number.isInteger(EPOCHS) && EPOCHS >= 2)) throw new Error(`BENCH_EPOCHS ${EPOCHS}: 2 or more (the first is not counted)`);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

// ---- instrumentation: cumulative milliseconds per component
const ms: Record<string, number> = {};
const calls: Record<string, number> = {};
async function timed<T>(key: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    ms[key] = (ms[key] ?? 0) + performance.now() - t0;
    calls[key] = (calls[key] ?? 0) + 1;
  }
}
const proto = SdPipeline.prototype;
const { encodeText, decode, denoiser } = proto;
proto.encodeText = function (this: SdPipeline, ...a: Parameters<typeof encodeText>) {
  return timed('text_encode', () => encodeText.apply(this, a));
};
proto.decode = function (this: SdPipeline, latents: HostTensor) {
  return timed('vae_decode', () => decode.call(this, latents));
};
proto.denoiser = function (this: SdPipeline, strength?: number) {
  const d = denoiser.call(this, strength);
  // The adapted pipeline samples; the adapter-free one is the KL term's reference during training.
  const key = this.lora ? 'unet' : 'kl_reference';
  return { predict: (x, t, c) => timed(key, () => d.predict(x, t, c)) };
};
const { gradients, apply } = Trainer.prototype;
Trainer.prototype.gradients = function (this: Trainer, ...a: Parameters<typeof gradients>) {
  return timed('forward_backward', () => gradients.apply(this, a));
};
Trainer.prototype.apply = function (this: Trainer, ...a: Parameters<typeof apply>) {
  return timed('adamw', () => apply.apply(this, a));
};
const oracle = new WorldOracle();
const reward = { score: (images: ImageBatch, prompts: string[]) => timed('reward', () => oracle.score(images, prompts)) };

// ---- engine
const t0 = performance.now();
const model = loadSdModel(path.resolve('models/embedded'));
const loadMs = performance.now() - t0;
const ps = subjectPrompts(subjectById(R.subject.id));
const prompts = [...ps.trainWithIdentifier, ...ps.trainWithoutIdentifier];
// A shorter development epoch (BENCH_SAMPLES) keeps the per-prompt statistics reachable.
const perPrompt = Math.max(1, Math.floor(Math.min(R.ddpo.perPromptStats.bufferSize, SAMPLES / prompts.length)));
const stats = SAMPLES === R.ddpo.samplesPerEpoch ? R.ddpo.perPromptStats : { bufferSize: perPrompt, minCount: perPrompt };

// ---- PyTorch: one epoch per call (scripts/torch/ddpo_epoch.py), or null without torch
interface TorchEpoch { ms_sample: number; ms_train: number; phases: Record<string, number> }
const haveTorch = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
let torchMeta: Record<string, unknown> | undefined;
let torchWallMs = 0;
function torchEpoch(): TorchEpoch | null {
  if (!haveTorch) return null;
  const t = performance.now();
  const script = path.join(import.meta.dirname, '../scripts/torch/ddpo_epoch.py');
  const out = execFileSync(PYTHON, [script, '--threads', String(THREADS), '--epochs', '1', '--samples', String(SAMPLES),
    '--stat-buffer', String(stats.bufferSize), '--stat-min', String(stats.minCount)], {
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1' }, encoding: 'utf8', maxBuffer: 1 << 26,
  });
  torchWallMs += performance.now() - t;
  const r = JSON.parse(out.trim().split('\n').pop()!);
  torchMeta = r;
  return r.epochs[0];
}

// ---- engine, with PyTorch's epochs in between
const SAMPLE_KEYS = ['text_encode', 'unet', 'vae_decode', 'reward'];
const TRAIN_KEYS = ['kl_reference', 'forward_backward', 'adamw'];
const perEpoch: { stats: EpochStats; phases: Record<string, number> }[] = [];
const torchEpochs: TorchEpoch[] = [];
let mark = { ...ms };
const t1 = performance.now();
await trainDdpo(model, {
  ...R.ddpo, prompts, reward, epochs: EPOCHS, samplesPerEpoch: SAMPLES, perPromptStats: stats, sessionOptions: { threads: THREADS },
  onEpoch: (s) => {
    const phases = Object.fromEntries(Object.keys(ms).map((k) => [k, ms[k] - (mark[k] ?? 0)]));
    phases.sample_other = s.sampleSeconds * 1000 - SAMPLE_KEYS.reduce((a, k) => a + (phases[k] ?? 0), 0);
    phases.train_other = s.trainSeconds * 1000 - TRAIN_KEYS.reduce((a, k) => a + (phases[k] ?? 0), 0);
    perEpoch.push({ stats: s, phases });
    console.error(`engine epoch ${s.epoch}: sample ${s.sampleSeconds.toFixed(2)} s, train ${s.trainSeconds.toFixed(2)} s, reward ${s.rewardMean.toFixed(3)}, loss ${s.loss.toExponential(2)}`);
    if (s.epoch > 1) {
      const te = torchEpoch();
      if (te) {
        torchEpochs.push(te);
        console.error(`pytorch epoch: sample ${(te.ms_sample / 1000).toFixed(2)} s, train ${(te.ms_train / 1000).toFixed(2)} s`);
      }
    }
    mark = { ...ms };
  },
});
const setupMs = performance.now() - t1 - torchWallMs - perEpoch.reduce((a, e) => a + 1000 * (e.stats.sampleSeconds + e.stats.trainSeconds), 0);

// ---- report
const fmtPhases = (p: Record<string, number>, keys: string[]) => keys.filter((k) => p[k] !== undefined).map((k) => `${k} ${(p[k] / 1000).toFixed(2)}`).join(', ');
const SAMPLE_ROW = ['text_encode', 'unet', 'ddim_step', 'vae_decode', 'reward', 'sample_other'];
const TRAIN_ROW = ['kl_reference', 'forward_backward', 'adamw', 'train_other'];
const medianPhases = (ps: Record<string, number>[]) =>
  Object.fromEntries([...new Set(ps.flatMap((p) => Object.keys(p)))].map((k) => [k, median(ps.map((p) => p[k] ?? 0))]));
const counted = perEpoch.slice(1);
// Sampling without the reward (the PyTorch port has none).
const engineSample = counted.map((e) => e.stats.sampleSeconds * 1000 - (e.phases.reward ?? 0));
const engineTrain = counted.map((e) => e.stats.trainSeconds * 1000);
const msSample = median(engineSample), msTrain = median(engineTrain);
const engineMed = medianPhases(counted.map((e) => e.phases));
const trainT = Math.floor(R.ddpo.steps * R.ddpo.timestepFraction);
console.log(`ddpo-epoch: embedded model (base UNet + fresh LoRA rank ${R.ddpo.loraRank} on the attention projections), ${SAMPLES} samples in batches of ` +
  `${R.ddpo.sampleBatch}, ${R.ddpo.steps} DDIM steps (eta 1, guidance ${R.ddpo.guidance}, UNet batch ${2 * R.ddpo.sampleBatch}), ` +
  `${SAMPLES / R.ddpo.trainBatch} minibatches of ${R.ddpo.trainBatch} x ${trainT} timesteps, KL ${R.ddpo.klWeight}, ` +
  `gradients over ${R.ddpo.gradAccumulation} minibatches; ${THREADS} threads; medians of ${counted.length} epochs after the engine's first`);
console.log(`engine: model load ${(loadMs / 1000).toFixed(2)} s, graph + training session build ${(setupMs / 1000).toFixed(2)} s`);
for (const { stats: s, phases } of perEpoch) {
  console.log(`engine epoch ${s.epoch}${s.epoch === 1 ? ' (builds the sessions, not counted)' : ''}: sample ${s.sampleSeconds.toFixed(2)} s (${fmtPhases(phases, SAMPLE_ROW)}), ` +
    `train ${s.trainSeconds.toFixed(2)} s (${fmtPhases(phases, TRAIN_ROW)})`);
}
console.log(`engine median: sample ${(msSample / 1000).toFixed(2)} s without the reward (${fmtPhases(engineMed, SAMPLE_ROW)}), train ${(msTrain / 1000).toFixed(2)} s (${fmtPhases(engineMed, TRAIN_ROW)})`);
console.log(`engine calls in ${EPOCHS} epochs: ${Object.entries(calls).map(([k, n]) => `${k} ${n}`).join(', ')}`);

let torchSample: number | null = null, torchTrain: number | null = null;
if (torchMeta && torchEpochs.length) {
  const m = torchMeta as { torch_version: string; threads: number; openblas_threads: string; setup_s: number; warmup_s: number; unet_params: number; lora_params: number; lora_layers: number };
  console.log(`pytorch ${m.torch_version} (threads ${m.threads}, OPENBLAS_NUM_THREADS=${m.openblas_threads}): model load + LoRA ${m.setup_s} s, ` +
    `warm-up ${m.warmup_s} s, UNet ${m.unet_params} params, LoRA ${m.lora_params} params on ${m.lora_layers} layers`);
  torchEpochs.forEach((e, i) => console.log(`pytorch epoch ${i + 1}: sample ${(e.ms_sample / 1000).toFixed(2)} s (${fmtPhases(e.phases, SAMPLE_ROW)}), ` +
    `train ${(e.ms_train / 1000).toFixed(2)} s (${fmtPhases(e.phases, TRAIN_ROW)})`));
  torchSample = median(torchEpochs.map((e) => e.ms_sample));
  torchTrain = median(torchEpochs.map((e) => e.ms_train));
  const tm = medianPhases(torchEpochs.map((e) => e.phases));
  console.log(`pytorch median: sample ${(torchSample / 1000).toFixed(2)} s (${fmtPhases(tm, SAMPLE_ROW)}), train ${(torchTrain / 1000).toFixed(2)} s (${fmtPhases(tm, TRAIN_ROW)})`);
} else console.log(`pytorch: not run (${PYTHON} with torch not found; apt-get install python3-torch libopenblas0-pthread)`);

const ratio = torchSample !== null && torchTrain !== null ? (msSample + msTrain) / (torchSample + torchTrain) : null;
console.log(`reward (oracle, excluded from both): ${((engineMed.reward ?? 0) / 1000).toFixed(2)} s an epoch; ` +
  `engine sample ${(msSample / 1000).toFixed(2)} s + train ${(msTrain / 1000).toFixed(2)} s` +
  (ratio === null ? '' : `; pytorch sample ${(torchSample! / 1000).toFixed(2)} s + train ${(torchTrain! / 1000).toFixed(2)} s; ` +
    `engine/pytorch: sample ${(msSample / torchSample!).toFixed(2)}x, train ${(msTrain / torchTrain!).toFixed(2)}x, epoch ${ratio.toFixed(2)}x`));
console.log(JSON.stringify({
  ms_sample: +msSample.toFixed(1), ms_train: +msTrain.toFixed(1), torch_ms_sample: torchSample, torch_ms_train: torchTrain,
  ratio: ratio === null ? null : +ratio.toFixed(3),
}));
