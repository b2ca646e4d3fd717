// A resumable training loop for the stages of `npm run train:world`: `build(params)` makes the forward graph with
// its loss; every `ckptEvery` steps the parameters ("p."), the optimizer's state ("o.") and the EMA ("e.") go to one
// checkpoint file, the step in its metadata, so rerunning the same command continues where it stopped.
import fs from 'node:fs';
import path from 'node:path';
import { makeTrainingGraph } from '../../src/runtime/autodiff/training-graph.js';
import { Trainer } from '../../src/runtime/autodiff/trainer.js';
import { FusedAdamW } from '../../src/runtime/engine/optim/fused-adamw.js';
import { makeSchedule } from '../../src/runtime/engine/optim/schedule.js';
import type { HostTensor } from '../../src/runtime/onnx/tensor.js';
import type { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import { type ParamSource, WeightsSource } from '../../src/runtime/onnx/params.js';
import { fmt, loadWeights, log, saveWeights, secs } from './io.js';

export interface StageOptions {
  name: string;
  /** Folder of the checkpoint file. */
  workDir: string;
  steps: number;
  batch: number;
  lr: number;
  warmup: number;
  weightDecay: number;
  build: (params: ParamSource) => { graph: GraphBuilder; loss: string };
  feeds: (step: number) => Record<string, HostTensor>;
  init: ParamSource;
  /** Which float initializers train (default: all); the rest stay frozen inside the graph. */
  trainable?: (name: string) => boolean;
  /** Keep an exponential moving average of the parameters and return it instead of the last values. */
  emaDecay?: number;
  logEvery: number;
  ckptEvery: number;
}

/** Trains and returns the trained parameters (the EMA when asked for); frozen ones are not in the result. */
export async function trainStage(o: StageOptions): Promise<Map<string, HostTensor>> {
  const ckpt = path.join(o.workDir, `${o.name}.ckpt.safetensors`);
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
    // Frozen parameters are not checkpointed: they come from `init` as before.
    source = new WeightsSource(params, o.init);
    start = Number(meta.step ?? 0);
    log(`${o.name}: resuming from step ${start} (${ckpt})`);
  }
  const { graph, loss } = o.build(source);
  // `trainable` picks among the parameters; build-time constants (shapes, Resize scales) never train.
  const keep = o.trainable;
  const tg = makeTrainingGraph(graph.graph, loss, keep ? { trainable: (n) => !graph.graph.constants.has(n) && keep(n) } : {});
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
    if ((s + 1) % o.logEvery === 0 || s + 1 === o.steps) {
      const dt = secs(t0);
      const n = window.length;
      const mean = window.reduce((a, c) => a + c, 0) / Math.max(1, n);
      log(`${o.name} step ${String(s + 1).padStart(6)}/${o.steps}  loss ${fmt(mean)}  lr ${lr(s).toExponential(2)}  gnorm ${r.gradNorm?.toFixed(3)}  ` +
        `${(n / dt).toFixed(2)} steps/s  ${((n * o.batch) / dt).toFixed(0)} img/s  (data ${((dataTime / 1000 / dt) * 100).toFixed(0)}%)`);
      window = [];
      dataTime = 0;
      t0 = performance.now();
    }
    if ((s + 1) % o.ckptEvery === 0 && s + 1 < o.steps) save(s + 1);
  }
  save(o.steps);
  if (o.steps > start) log(`${o.name}: ${o.steps - start} steps in ${secs(tStage).toFixed(1)} s`);
  const out = new Map<string, HostTensor>();
  for (const n of tg.params) out.set(n, { ...trainer.paramTensor(n), data: Float32Array.from(ema?.get(n) ?? trainer.params.get(n)!) });
  await trainer.release();
  return out;
}
