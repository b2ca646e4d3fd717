// `npm run train:world`: trains the embedded default text-to-image model (issue 5) on the generated world with the
// project's own engine, and writes it as a diffusers folder.
//   1. tokenizer: CLIP tokenizer files for the world's closed vocabulary (identifiers included);
//   2. VAE: 32x32 images <-> 4x8x8 latents on rendered world images (base scenes and subjects), then the latent
//      scaling factor (1 / std of the latents);
//   2b. the VAE decoder alone, longer (the encoder frozen, so latents and the UNet trained on them stay valid): the
//      joint VAE run leaves shapes and markings blurred, and the decoder is where they are lost;
//   3. text encoder + UNet from random init, jointly, on base-world (caption, latent) pairs with the DDPM eps loss;
//   4. save (saveSdModelFolder) and a quick alignment check: DDIM samples of base evaluation captions judged by the
//      WorldOracle, with a PNG grid next to the model.
// Every stage resumes: finished stages leave their result in <out>/.train/, running ones checkpoint every few
// hundred steps (parameters + optimizer state), so rerunning the same command continues where it stopped. To train
// a finished UNet longer, move <out>/.train/text-unet.safetensors aside and rerun with a larger --unet-steps: it
// resumes from the last checkpoint on the longer cosine schedule (the shipped model was made so: 5000 steps, then
// extended to 7000, 10000 and 14000).
//
// Options: --out DIR (models/embedded), --quick (a smoke run: a few hundred steps in all), --vae-steps N,
// --decoder-steps N, --unet-steps N, --vae-batch N, --unet-batch N, --examples N (UNet training pairs), --vae-images N, --eval N,
// --ckpt-every N, --log-every N, --seed N, --fresh (ignore earlier checkpoints).
import fs from 'node:fs';
import path from 'node:path';
import { makeTrainingGraph } from '../src/runtime/autodiff/training-graph.js';
import { Trainer } from '../src/runtime/autodiff/trainer.js';
import { imagesToTensor } from '../src/runtime/diffusion/latent-images.js';
import { DEFAULT_SAMPLING } from '../src/runtime/diffusion/sampler.js';
import { NoiseSchedule, SD15_SCHEDULER_CONFIG } from '../src/runtime/diffusion/schedule.js';
import { ClipTokenizer } from '../src/runtime/diffusion/tokenizer.js';
import { writeWordVocab } from '../src/runtime/diffusion/word-vocab.js';
import { type ImageBatch, imageBatch } from '../src/runtime/engine/image.js';
import { encodePng } from '../src/runtime/engine/image-io.js';
import { FusedAdamW } from '../src/runtime/engine/optim/fused-adamw.js';
import { makeSchedule } from '../src/runtime/engine/optim/schedule.js';
import { Rng } from '../src/runtime/engine/random.js';
import { decodeSafetensors, encodeSafetensors } from '../src/runtime/engine/safetensors.js';
import { Session } from '../src/runtime/engine/session.js';
import { type HostTensor, tensor } from '../src/runtime/engine/tensor.js';
import { type ClipTextConfig, clipText, clipTextParamShapes } from '../src/runtime/models/clip-text.js';
import { TINY_UNET, type UNetConfig, type VaeConfig, TINY_VAE } from '../src/runtime/models/configs.js';
import { randomSdModel } from '../src/runtime/models/random-model.js';
import { loadSdModel, saveSdModelFolder, type SdModel } from '../src/runtime/models/sd-model.js';
import { SdPipeline } from '../src/runtime/models/sd-pipeline.js';
import { unet, unetParamShapes } from '../src/runtime/models/unet.js';
import { vaeDecode, vaeEncode, vaeParamShapes } from '../src/runtime/models/vae.js';
import { GraphBuilder } from '../src/runtime/onnx/builder.js';
import * as op from '../src/runtime/onnx/ops/index.js';
import { type ParamSource, RandomInit, WeightsSource } from '../src/runtime/onnx/params.js';
import {
  SUBJECTS,
  WorldOracle,
  baseEvaluationCaptions,
  baseTrainingCaptions,
  baseTrainingExamples,
  renderScenes,
  sampleSubjectScene,
  worldVocabulary,
} from '../src/runtime/world/index.js';
import { numberOption, parseArgs } from './common/args.js';

// ---------------------------------------------------------------------------------------------------------------
// Options

const args = parseArgs(process.argv.slice(2), ['quick', 'fresh']);
const quick = args.quick === true;
const num = numberOption(args);
const OUT = path.resolve(typeof args.out === 'string' ? args.out : 'models/embedded');
const WORK = path.join(OUT, '.train');
const SEED = num('seed', 0, 0);
const RES = 32;
const opt = {
  vaeSteps: num('vae-steps', 700, 100),
  decoderSteps: num('decoder-steps', 3000, 100),
  vaeBatch: num('vae-batch', 32, 16),
  vaeImages: num('vae-images', 20000, 1000),
  unetSteps: num('unet-steps', 14000, 150),
  unetBatch: num('unet-batch', 48, 16),
  examples: num('examples', 30000, 1000),
  scaleImages: num('scale-images', 4096, 512),
  evalCount: num('eval', 64, 64),
  ckptEvery: num('ckpt-every', 500, 100),
  logEvery: num('log-every', 50, 25),
};
if (args.fresh) fs.rmSync(WORK, { recursive: true, force: true });
fs.mkdirSync(WORK, { recursive: true });

// ---------------------------------------------------------------------------------------------------------------
// Architectures

const VAE_CFG: VaeConfig = { ...TINY_VAE, blockOutChannels: [32, 64, 64], layersPerBlock: 1, normNumGroups: 8, scalingFactor: 1 };
const UNET_CFG: UNetConfig = {
  ...TINY_UNET,
  blockOutChannels: [48, 64, 96],
  layersPerBlock: 1,
  downBlockTypes: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  crossAttentionDim: 64,
  attentionHeads: 4,
  normNumGroups: 8,
};
const textCfg = (vocabSize: number): ClipTextConfig => ({
  vocabSize, width: 64, layers: 3, heads: 4, intermediate: 256, maxPositions: 77, eps: 1e-5, act: 'quick_gelu',
});

// ---------------------------------------------------------------------------------------------------------------
// Helpers

const f32 = (shape: number[], data: Float32Array): HostTensor => ({ dtype: 'float32', shape, data });
const secs = (t0: number) => (performance.now() - t0) / 1000;
const fmt = (x: number, d = 4) => x.toFixed(d);
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
const stageTimes: Record<string, number> = {};

function countValues(m: Map<string, number[]>): number {
  let n = 0;
  for (const s of m.values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

function saveWeights(file: string, w: Map<string, HostTensor>, meta: Record<string, string> = {}): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, encodeSafetensors(Object.fromEntries(w), meta));
  fs.renameSync(tmp, file);
}

function loadWeights(file: string): { weights: Map<string, HostTensor>; meta: Record<string, string> } {
  const { tensors, metadata } = decodeSafetensors(fs.readFileSync(file), file);
  return { weights: new Map(Object.entries(tensors)), meta: metadata };
}

/** Images [0,1] HWC -> [B,3,H,W] in [-1,1], for rows `idx` of a big batch. */
function pickImages(all: ImageBatch, idx: number[]): HostTensor {
  const per = all.height * all.width * all.channels;
  const sub = imageBatch(idx.length, all.height, all.width, all.channels);
  idx.forEach((k, i) => sub.data.set(all.data.subarray(k * per, (k + 1) * per), i * per));
  return imagesToTensor(sub);
}

/**
 * A resumable training loop: `build(params)` makes the forward graph with the loss output; the checkpoint holds the
 * parameters ("p.") and the optimizer's state ("o."), the step in its metadata.
 */
async function trainStage(o: {
  name: string;
  steps: number;
  batch: number;
  lr: number;
  warmup: number;
  weightDecay: number;
  build: (params: ParamSource) => { graph: GraphBuilder; loss: string };
  feeds: (step: number) => Record<string, HostTensor>;
  init: ParamSource;
  /** Keep an exponential moving average of the parameters and return it instead of the last values. */
  emaDecay?: number;
}): Promise<Map<string, HostTensor>> {
  const ckpt = path.join(WORK, `${o.name}.ckpt.safetensors`);
  let start = 0;
  let source: ParamSource = o.init;
  let optState: Record<string, HostTensor> | undefined;
  let emaState: Map<string, HostTensor> | undefined;
  if (fs.existsSync(ckpt)) {
    const { weights, meta } = loadWeights(ckpt);
    const params = new Map<string, HostTensor>();
    optState = {};
    for (const [k, t] of weights) {
      if (k.startsWith('p.')) params.set(k.slice(2), t);
      else if (k.startsWith('o.')) optState[k.slice(2)] = t;
      else if (k.startsWith('e.')) (emaState ??= new Map()).set(k.slice(2), t);
    }
    source = new WeightsSource(params);
    start = Number(meta.step ?? 0);
    log(`${o.name}: resuming from step ${start} (${ckpt})`);
  }
  const { graph, loss } = o.build(source);
  const tg = makeTrainingGraph(graph.graph, loss);
  const optimizer = FusedAdamW.create({ lr: o.lr, weightDecay: o.weightDecay });
  if (optState && Object.keys(optState).length > 0) optimizer.loadStateDict(optState);
  const trainer = await Trainer.create(tg, optimizer, { maxGradNorm: 1 });
  const nParams = tg.params.reduce((a, n) => a + trainer.params.get(n)!.length, 0);
  // EMA weights: the usual remedy for the noise of short diffusion runs. Warmed up as (1+s)/(10+s) so that early
  // averages do not drag random-init values along.
  const ema = o.emaDecay === undefined ? undefined
    : new Map(tg.params.map((n) => [n, Float32Array.from(emaState?.get(n)?.data as Float32Array ?? trainer.params.get(n)!)]));
  const updateEma = (s: number) => {
    if (!ema) return;
    const d = Math.min(o.emaDecay!, (1 + s) / (10 + s));
    for (const [n, e] of ema) {
      const p = trainer.params.get(n)!;
      for (let i = 0; i < e.length; i++) e[i] = d * e[i] + (1 - d) * p[i];
    }
  };
  log(`${o.name}: ${tg.params.length} tensors, ${(nParams / 1e6).toFixed(2)}M parameters, ${o.steps} steps of batch ${o.batch}`);
  const lr = makeSchedule({ kind: 'cosine', baseLr: o.lr, warmupSteps: Math.min(o.warmup, Math.floor(o.steps / 10)), totalSteps: Math.max(1, o.steps), minLrRatio: 0.05 });
  const save = (step: number) => {
    const w = new Map<string, HostTensor>();
    for (const n of tg.params) w.set(`p.${n}`, trainer.paramTensor(n));
    for (const [k, t] of Object.entries(optimizer.stateDict())) w.set(`o.${k}`, t);
    if (ema) for (const n of tg.params) w.set(`e.${n}`, { ...trainer.paramTensor(n), data: ema.get(n)! });
    saveWeights(ckpt, w, { step: String(step) });
  };
  let window: number[] = [];
  let t0 = performance.now();
  let dataTime = 0;
  const tStage = performance.now();
  for (let s = start; s < o.steps; s++) {
    const td = performance.now();
    const feeds = o.feeds(s);
    dataTime += performance.now() - td;
    const r = await trainer.step(feeds, lr(s));
    updateEma(s);
    if (!Number.isFinite(r.loss)) log(`${o.name}: step ${s + 1} loss ${r.loss} (non-finite)`);
    else window.push(r.loss);
    if ((s + 1) % opt.logEvery === 0 || s + 1 === o.steps) {
      const dt = secs(t0);
      const n = window.length;
      const mean = window.reduce((a, c) => a + c, 0) / Math.max(1, n);
      log(`${o.name} step ${String(s + 1).padStart(6)}/${o.steps}  loss ${fmt(mean)}  lr ${lr(s).toExponential(2)}  gnorm ${r.gradNorm?.toFixed(3)}  ` +
        `${(n / dt).toFixed(2)} steps/s  ${((n * o.batch) / dt).toFixed(0)} img/s  (data ${((dataTime / 1000 / dt) * 100).toFixed(0)}%)`);
      window = [];
      dataTime = 0;
      t0 = performance.now();
    }
    if ((s + 1) % opt.ckptEvery === 0 && s + 1 < o.steps) save(s + 1);
  }
  save(o.steps);
  if (o.steps > start) log(`${o.name}: ${o.steps - start} steps in ${secs(tStage).toFixed(1)} s`);
  const out = new Map<string, HostTensor>();
  for (const n of tg.params) out.set(n, { ...trainer.paramTensor(n), data: Float32Array.from(ema?.get(n) ?? trainer.params.get(n)!) });
  await trainer.release();
  return out;
}

async function timed<T>(name: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const r = await f();
  stageTimes[name] = secs(t0);
  log(`stage ${name}: ${stageTimes[name].toFixed(1)} s`);
  return r;
}

// ---------------------------------------------------------------------------------------------------------------
// Stage 1: tokenizer

const tokDir = path.join(WORK, 'tokenizer');
const tokenizer = await timed('1-tokenizer', async () => {
  const words = new Set(worldVocabulary());
  for (const s of SUBJECTS) words.add(s.identifier);
  writeWordVocab(tokDir, words);
  const tok = ClipTokenizer.fromFolder(tokDir);
  log(`tokenizer: ${words.size} words, vocabulary of ${tok.vocabSize} tokens -> ${tokDir}`);
  return tok;
});
const TEXT_CFG = textCfg(tokenizer.vocabSize);

const sizes = {
  vae: countValues(vaeParamShapes(VAE_CFG)),
  unet: countValues(unetParamShapes(UNET_CFG)),
  text: countValues(clipTextParamShapes(TEXT_CFG)),
};
log(`parameters: VAE ${(sizes.vae / 1e6).toFixed(2)}M, UNet ${(sizes.unet / 1e6).toFixed(2)}M, text ${(sizes.text / 1e6).toFixed(2)}M; ` +
  `${(((sizes.vae + sizes.unet + sizes.text) * 4) / 2 ** 20).toFixed(1)} MiB float32 in all`);
log(`options: ${JSON.stringify({ out: OUT, quick, ...opt })}`);

// ---------------------------------------------------------------------------------------------------------------
// Stage 2: VAE

/** What the VAE stages train on: base scenes, and the subjects in random scenes (the VAE must reproduce markings). */
function renderVaeImages(): ImageBatch {
  const nSubj = Math.floor(opt.vaeImages * 0.15);
  const base = baseTrainingCaptions(opt.vaeImages - nSubj, SEED + 101).scenes;
  const rng = new Rng(SEED + 102);
  const subj = Array.from({ length: nSubj }, (_, i) => sampleSubjectScene(SUBJECTS[i % SUBJECTS.length], rng));
  return renderScenes([...base, ...subj], RES);
}

const vaeFile = path.join(WORK, 'vae.safetensors');
const vae = await timed('2-vae', async () => {
  if (fs.existsSync(vaeFile)) {
    const { weights, meta } = loadWeights(vaeFile);
    log(`vae: done earlier (${vaeFile}), scaling factor ${meta.scalingFactor}`);
    return { weights, config: { ...VAE_CFG, scalingFactor: Number(meta.scalingFactor) } };
  }
  // Everything renderable: base scenes, and the subjects in random scenes (the VAE must reproduce their markings).
  const t0 = performance.now();
  const images = renderVaeImages();
  log(`vae: rendered ${images.count} images in ${secs(t0).toFixed(1)} s`);
  const B = opt.vaeBatch;
  const lat = RES / 4;
  const weights = await trainStage({
    name: 'vae', steps: opt.vaeSteps, batch: B, lr: 1e-3, warmup: 100, weightDecay: 0,
    init: new RandomInit(SEED + 1),
    build: (params) => {
      const b = new GraphBuilder();
      const x = b.input('x', [B, 3, RES, RES]);
      const eps = b.input('eps', [B, VAE_CFG.latentChannels, lat, lat]);
      const ctx = { b, params };
      const { mean, logvar } = vaeEncode(ctx, VAE_CFG, x);
      const z = op.add(mean, op.mul(op.exp(op.mul(logvar, 0.5)), eps));
      const d = op.sub(vaeDecode(ctx, VAE_CFG, z), x);
      const mse = op.mean(op.mul(d, d));
      // KL(q || N(0,1)) per sample (summed over latent elements), averaged over the batch.
      const klPer = op.mul(op.mean(op.sub(op.add(op.mul(mean, mean), op.exp(logvar)), op.add(logvar, 1))), 0.5 * VAE_CFG.latentChannels * lat * lat);
      return { graph: b, loss: b.output(op.add(mse, op.mul(klPer, 1e-6)), 'loss').name };
    },
    feeds: (step) => {
      const r = new Rng(SEED * 1_000_003 + 7_000_000 + step);
      const idx = Array.from({ length: B }, () => r.int(images.count));
      return { x: pickImages(images, idx), eps: f32([B, VAE_CFG.latentChannels, lat, lat], r.fillNormal(new Float32Array(B * VAE_CFG.latentChannels * lat * lat))) };
    },
  });
  // Reconstruction check on held-out images and the latent scale: 1 / std of the posterior means.
  const cfg = { ...VAE_CFG };
  const nScale = Math.min(opt.scaleImages, images.count);
  const EB = 64;
  const encS = await Session.fromGraph((() => {
    const b = new GraphBuilder();
    const { mean } = vaeEncode({ b, params: new WeightsSource(weights) }, cfg, b.input('x', [EB, 3, RES, RES]));
    b.output(mean, 'mean');
    return b.graph;
  })());
  let s1 = 0, s2 = 0, n = 0;
  for (let k = 0; k + EB <= nScale; k += EB) {
    const m = (await encS.run({ x: pickImages(images, Array.from({ length: EB }, (_, i) => k + i)) })).mean.data as Float32Array;
    for (const v of m) { s1 += v; s2 += v * v; n++; }
  }
  await encS.release();
  const mu = s1 / n;
  const std = Math.sqrt(s2 / n - mu * mu);
  cfg.scalingFactor = 1 / std;
  log(`vae: latents mean ${fmt(mu)} std ${fmt(std)} over ${n / (4 * lat * lat)} images -> scaling factor ${fmt(cfg.scalingFactor)}`);
  saveWeights(vaeFile, weights, { scalingFactor: String(cfg.scalingFactor) });
  return { weights, config: cfg };
});

// ---------------------------------------------------------------------------------------------------------------
// Stage 2b: the decoder alone, on the frozen encoder's posterior means (plus a little noise: the UNet's latents are
// not exact), with L2 + 0.1 L1 (L1 keeps edges). The same images as stage 2.

const decoderFile = path.join(WORK, 'vae-decoder.safetensors');
await timed('2b-decoder', async () => {
  if (fs.existsSync(decoderFile)) {
    for (const [k, t] of loadWeights(decoderFile).weights) vae.weights.set(k, t);
    log(`decoder: done earlier (${decoderFile})`);
    return;
  }
  const images = renderVaeImages();
  const lat = RES / 4;
  const L = VAE_CFG.latentChannels * lat * lat;
  const EB = 256;
  const means = new Float32Array(images.count * L);
  const encS = await Session.fromGraph((() => {
    const b = new GraphBuilder();
    const { mean } = vaeEncode({ b, params: new WeightsSource(vae.weights) }, vae.config, b.input('x', [EB, 3, RES, RES]));
    b.output(mean, 'mean');
    return b.graph;
  })());
  for (let k = 0; k < images.count; k += EB) {
    const idx = Array.from({ length: EB }, (_, i) => Math.min(images.count - 1, k + i));
    const m = (await encS.run({ x: pickImages(images, idx) })).mean.data as Float32Array;
    means.set(m.subarray(0, Math.min(EB, images.count - k) * L), k * L);
  }
  await encS.release();
  const B = opt.vaeBatch;
  const sigma = 0.1 / vae.config.scalingFactor;
  const weights = await trainStage({
    name: 'vae-decoder', steps: opt.decoderSteps, batch: B, lr: 1e-3, warmup: 50, weightDecay: 0,
    init: new WeightsSource(vae.weights),
    build: (params) => {
      const b = new GraphBuilder();
      const z = b.input('z', [B, VAE_CFG.latentChannels, lat, lat]);
      const x = b.input('x', [B, 3, RES, RES]);
      const d = op.sub(vaeDecode({ b, params }, vae.config, z), x);
      return { graph: b, loss: b.output(op.add(op.mean(op.mul(d, d)), op.mul(op.mean(op.abs(d)), 0.1)), 'loss').name };
    },
    feeds: (step) => {
      const r = new Rng(SEED * 1_000_003 + 777_000 + step);
      const idx = Array.from({ length: B }, () => r.int(images.count));
      const z = new Float32Array(B * L);
      idx.forEach((k, i) => z.set(means.subarray(k * L, (k + 1) * L), i * L));
      for (let i = 0; i < z.length; i++) z[i] += sigma * r.normal();
      return { z: f32([B, VAE_CFG.latentChannels, lat, lat], z), x: pickImages(images, idx) };
    },
  });
  saveWeights(decoderFile, weights);
  for (const [k, t] of weights) vae.weights.set(k, t);
});

// Held-out reconstruction error (MSE in [-1,1] space, through the posterior mean).
async function reconstructionMse(): Promise<number> {
  const ex = baseTrainingExamples(64, SEED + 555);
  const b = new GraphBuilder();
  const ctx = { b, params: new WeightsSource(vae.weights) };
  const x = b.input('x', [64, 3, RES, RES]);
  const d = op.sub(vaeDecode(ctx, vae.config, vaeEncode(ctx, vae.config, x).mean), x);
  b.output(op.mean(op.mul(d, d)), 'mse');
  const s = await Session.fromGraph(b.graph);
  const r = Number((await s.run({ x: imagesToTensor(ex.images) })).mse.data[0]);
  await s.release();
  return r;
}
log(`vae: held-out reconstruction MSE ${fmt(await reconstructionMse(), 5)} (images in [-1, 1])`);

// ---------------------------------------------------------------------------------------------------------------
// Stage 3: text encoder + UNet

const jointFile = path.join(WORK, 'text-unet.safetensors');
const schedule = new NoiseSchedule({ ...SD15_SCHEDULER_CONFIG });
const joint = await timed('3-text-unet', async () => {
  if (fs.existsSync(jointFile)) {
    log(`text+unet: done earlier (${jointFile})`);
    return loadWeights(jointFile).weights;
  }
  // Latents of the base-world examples, once, through the trained VAE (posterior mean, scaled).
  const latFile = path.join(WORK, `latents-${opt.examples}.safetensors`);
  const lat = RES / 4;
  const per = 4 * lat * lat;
  const t0 = performance.now();
  // Captions leave the color out 30% of the time (the scenes, and so the cached latents, are the same either way).
  const { captions } = baseTrainingCaptions(opt.examples, SEED + 201, { colorMentionRate: 0.7 });
  let latents: Float32Array;
  if (fs.existsSync(latFile)) latents = loadWeights(latFile).weights.get('latents')!.data as Float32Array;
  else {
    latents = new Float32Array(opt.examples * per);
    const EB = 256;
    const encS = await Session.fromGraph((() => {
      const b = new GraphBuilder();
      const { mean } = vaeEncode({ b, params: new WeightsSource(vae.weights) }, vae.config, b.input('x', [EB, 3, RES, RES]));
      b.output(op.mul(mean, vae.config.scalingFactor), 'z');
      return b.graph;
    })());
    // Render in chunks (baseTrainingExamples renders all at once; same seed gives the same scenes as the captions).
    const { scenes } = baseTrainingCaptions(opt.examples, SEED + 201);
    for (let k = 0; k < opt.examples; k += EB) {
      const chunk = scenes.slice(k, k + EB);
      const imgs = renderScenes(chunk, RES);
      const padded = imageBatch(EB, RES, RES, 3);
      padded.data.set(imgs.data);
      const z = (await encS.run({ x: imagesToTensor(padded) })).z.data as Float32Array;
      latents.set(z.subarray(0, chunk.length * per), k * per);
    }
    await encS.release();
    saveWeights(latFile, new Map([['latents', f32([opt.examples, 4, lat, lat], latents)]]));
  }
  let s1 = 0, s2 = 0;
  for (const v of latents) { s1 += v; s2 += v * v; }
  log(`text+unet: ${opt.examples} (caption, latent) pairs in ${secs(t0).toFixed(1)} s; scaled latents mean ${fmt(s1 / latents.length)} std ${fmt(Math.sqrt(s2 / latents.length - (s1 / latents.length) ** 2))}`);
  log(`text+unet: e.g. "${captions[0]}", "${captions[1]}", "${captions[2]}"`);
  const ids = captions.map((c) => tokenizer.encodePadded(c, { length: 77 }));
  const emptyIds = tokenizer.encodePadded('', { length: 77 });
  const B = opt.unetBatch;
  const init = randomSdModel({ unet: UNET_CFG, vae: vae.config, text: TEXT_CFG, tokenizer, resolution: RES, seed: SEED + 10 });
  const initW = new Map([...init.unet.weights, ...init.textEncoder.weights]);
  return trainStage({
    name: 'text-unet', steps: opt.unetSteps, batch: B, lr: 1.5e-3, warmup: 300, weightDecay: 1e-2, emaDecay: 0.999,
    init: new WeightsSource(initW),
    build: (params) => {
      const b = new GraphBuilder();
      const clean = b.input('clean', [B, 4, lat, lat]);
      const noise = b.input('noise', [B, 4, lat, lat]);
      const sqrtAb = b.input('sqrt_ab', [B, 1, 1, 1]);
      const sqrt1mAb = b.input('sqrt_1m_ab', [B, 1, 1, 1]);
      const t = b.input('timestep', [B]);
      const weight = b.input('loss_weight', [B, 1, 1, 1]);
      const inputIds = b.input('input_ids', [B, 77], 'int64');
      const ctx = { b, params };
      const cond = clipText(ctx, TEXT_CFG, inputIds).lastHidden;
      const noisy = op.add(op.mul(clean, sqrtAb), op.mul(noise, sqrt1mAb));
      const d = op.sub(unet(ctx, UNET_CFG, noisy, t, cond), noise);
      // Min-SNR-5 weighting (Hang et al. 2023): for eps prediction, w = min(SNR, 5) / SNR; it converges much faster.
      return { graph: b, loss: b.output(op.mean(op.mul(op.mul(d, d), weight)), 'loss').name };
    },
    feeds: (step) => {
      const r = new Rng(SEED * 1_000_003 + 9_000_000 + step);
      const w = new Float32Array(B);
      const clean = new Float32Array(B * per);
      const tok = new BigInt64Array(B * 77);
      const ts = new Float32Array(B);
      const sa = new Float32Array(B);
      const s1m = new Float32Array(B);
      for (let i = 0; i < B; i++) {
        const k = r.int(opt.examples);
        clean.set(latents.subarray(k * per, (k + 1) * per), i * per);
        const row = r.uniform() < 0.1 ? emptyIds : ids[k];
        for (let j = 0; j < 77; j++) tok[i * 77 + j] = BigInt(row[j]);
        const tt = r.int(schedule.numTrainTimesteps);
        ts[i] = tt;
        const ab = schedule.alphaCumprod(tt);
        sa[i] = Math.sqrt(ab);
        s1m[i] = Math.sqrt(1 - ab);
        const snr = ab / (1 - ab);
        w[i] = Math.min(snr, 5) / snr;
      }
      return {
        clean: f32([B, 4, lat, lat], clean),
        noise: f32([B, 4, lat, lat], r.fillNormal(new Float32Array(B * per))),
        sqrt_ab: f32([B, 1, 1, 1], sa),
        sqrt_1m_ab: f32([B, 1, 1, 1], s1m),
        timestep: f32([B], ts),
        loss_weight: f32([B, 1, 1, 1], w),
        input_ids: tensor('int64', [B, 77], tok),
      };
    },
  }).then((w) => {
    saveWeights(jointFile, w);
    return w;
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Stage 4: save and check alignment

await timed('4-save-eval', async () => {
  const unetW = new Map<string, HostTensor>();
  const textW = new Map<string, HostTensor>();
  for (const [k, t] of joint) (k.startsWith('text_model.') ? textW : unetW).set(k, t);
  const model: SdModel = {
    source: OUT,
    unet: { config: UNET_CFG, weights: unetW },
    vae: { config: vae.config, weights: vae.weights },
    textEncoder: { config: TEXT_CFG, weights: textW },
    tokenizer,
    scheduler: { ...SD15_SCHEDULER_CONFIG },
    resolution: RES,
  };
  saveSdModelFolder(OUT, model, tokDir);
  let bytes = 0;
  for (const c of ['unet', 'vae', 'text_encoder'])
    for (const f of fs.readdirSync(path.join(OUT, c))) if (f.endsWith('.safetensors')) bytes += fs.statSync(path.join(OUT, c, f)).size;
  log(`saved the model to ${OUT} (${(bytes / 2 ** 20).toFixed(1)} MiB of safetensors)`);

  // Reload from disk, as users will, and sample base evaluation captions (a seed no training set uses).
  const loaded = loadSdModel(OUT);
  const pipe = new SdPipeline(loaded);
  const prompts = baseEvaluationCaptions(opt.evalCount).captions;
  const t0 = performance.now();
  const { images } = await pipe.sample({ prompts, seeds: prompts.map((_, i) => 1000 + i), ...DEFAULT_SAMPLING });
  log(`eval: sampled ${prompts.length} images (${JSON.stringify(DEFAULT_SAMPLING)}) in ${secs(t0).toFixed(1)} s`);
  await pipe.release();
  const results = new WorldOracle().judge(images, prompts);
  const matches = results.filter((r) => r.matches).length;
  const meanScore = results.reduce((a, r) => a + r.score, 0) / results.length;
  // Per-attribute satisfaction, to see what the model misses.
  const byAttr = new Map<string, [number, number]>();
  for (const r of results)
    for (const c of r.checks) {
      const key = String((c.requirement as { attribute?: string; kind?: string }).attribute ?? (c.requirement as { kind?: string }).kind ?? 'other');
      const e = byAttr.get(key) ?? [0, 0];
      e[0] += c.satisfied ? 1 : 0;
      e[1]++;
      byAttr.set(key, e);
    }
  const attrs = [...byAttr].map(([k, [a, n]]) => `${k} ${a}/${n}`).join(', ');
  log(`eval: ${matches}/${results.length} samples match their prompt (alignment ${fmt(matches / results.length, 3)}), mean score ${fmt(meanScore, 3)}; per requirement: ${attrs}`);
  for (let i = 0; i < Math.min(8, prompts.length); i++) log(`  "${prompts[i]}": ${results[i].matches ? 'match' : 'MISS'} (${fmt(results[i].score, 2)})`);

  // Grid: 8 per row, each sample 2x upscaled (nearest), 2 px gaps.
  const cols = 8, rows = Math.ceil(images.count / cols), S = RES * 2, G = 2;
  const W = cols * (S + G) + G, H = rows * (S + G) + G;
  const grid = imageBatch(1, H, W, 3, new Float32Array(H * W * 3).fill(1));
  for (let i = 0; i < images.count; i++) {
    const ox = G + (i % cols) * (S + G), oy = G + Math.floor(i / cols) * (S + G);
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++)
        for (let c = 0; c < 3; c++)
          grid.data[((oy + y) * W + ox + x) * 3 + c] = images.data[((i * RES + (y >> 1)) * RES + (x >> 1)) * 3 + c];
  }
  const gridFile = path.join(OUT, 'samples.png');
  fs.writeFileSync(gridFile, await encodePng(grid));
  fs.writeFileSync(path.join(OUT, 'samples.json'), `${JSON.stringify({ alignment: matches / results.length, meanScore, prompts: prompts.map((p, i) => ({ prompt: p, match: results[i].matches, score: results[i].score })) }, null, 2)}\n`);
  log(`eval: grid ${gridFile}, prompts and verdicts in samples.json`);
});

log(`stage times (s): ${Object.entries(stageTimes).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
