// SD1.5 UNet training-step benchmark (issue 19.4): the full-size UNet (SD15_UNET, random weights), batch 1, 4x64x64
// latent (512 px), 77x768 context, DreamBooth's loss (MSE between the UNet's output and a noise target), AdamW (the
// engine's FusedAdamW; torch.optim.AdamW), 2 intra-op threads both sides. Four rows: LoRA rank 4 (alpha 4) on every
// attention projection (only the adapters train) and full fine-tuning (every UNet weight trains), each without and
// with gradient checkpointing; the same four through PyTorch (scripts/torch/bench_sd_train_step.py, torch.utils.
// checkpoint per resnet and transformer as diffusers does). Every row runs in its own child process, one at a time,
// engine and PyTorch alternating, so its peak RSS is that process's; one warm-up step, then BENCH_STEPS timed ones
// (mean). Before each row its memory is estimated against MemAvailable and the row skipped (with the reason) when it
// would not fit; a child killed anyway is reported as skipped with its signal. Run it alone (flock /tmp/ib-cpu.lock).
// Last line: JSON {"lora":{"s_per_step","peak_rss_mb","torch_s_per_step","torch_peak_rss_mb"},"lora_ckpt",...}.
//   BENCH_STEPS=2  BENCH_ROWS=lora,lora_ckpt,full,full_ckpt  BENCH_SIDES=engine,torch
//   BENCH_MEM_PATTERN=on|off, BENCH_ARENA=on|off: force onnxruntime's memory pattern or CPU memory arena on every
//   session the engine child creates (default: what session.ts and the trainer choose: the pattern off; the arena off
//   for a training session with gradient checkpointing, on for the others)
//   BENCH_GC=1: collect garbage after every gradients run (onnxruntime-node hands back a fresh copy of every output,
//   pre-allocated ones too: in full fine-tuning 3.3 GB of gradients that otherwise live until V8's next collection)
//   BENCH_SIZE=64 (latent side; smaller only to try the plumbing)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { makeTrainingGraph } from '../src/runtime/autodiff/training-graph.js';
import { Trainer } from '../src/runtime/autodiff/trainer.js';
import { FusedAdamW } from '../src/runtime/engine/optim/fused-adamw.js';
import { Rng } from '../src/runtime/onnx/random.js';
import type { HostTensor } from '../src/runtime/onnx/tensor.js';
import { SD15_UNET } from '../src/runtime/models/configs.js';
import { loraConfigFor } from '../src/runtime/models/sd-pipeline.js';
import { unet, unetParamCount } from '../src/runtime/models/unet.js';
import { GraphBuilder } from '../src/runtime/onnx/builder.js';
import { isLoraParam } from '../src/runtime/onnx/layers.js';
import * as op from '../src/runtime/onnx/ops/index.js';
import { RandomInit } from '../src/runtime/onnx/params.js';
import { freshLora } from '../src/runtime/training/lora-init.js';

const THREADS = 2;
const RANK = 4;
const ALPHA = 4;
const STEPS = Number(process.env.BENCH_STEPS ?? 2);
const SIZE = Number(process.env.BENCH_SIZE ?? 64);
const MEM_PATTERN = process.env.BENCH_MEM_PATTERN as 'on' | 'off' | undefined;
const ARENA = process.env.BENCH_ARENA as 'on' | 'off' | undefined;
const GC = process.env.BENCH_GC === '1';
const MB = 2 ** 20;
const GB = 2 ** 30;

type Mode = 'lora' | 'full';
interface Row { name: string; mode: Mode; ckpt: boolean }
const ROWS: Row[] = [
  { name: 'lora', mode: 'lora', ckpt: false },
  { name: 'lora_ckpt', mode: 'lora', ckpt: true },
  { name: 'full', mode: 'full', ckpt: false },
  { name: 'full_ckpt', mode: 'full', ckpt: true },
];

interface Result { s_per_step: number; steps_s: number[]; peak_rss_mb: number; losses: number[]; [k: string]: unknown }

// ---- engine child: one row in this process ----

async function child(mode: Mode, ckpt: boolean) {
  // Should memory run out anyway, the kernel's OOM killer takes this process first, not a neighbour.
  try {
    fs.writeFileSync('/proc/self/oom_score_adj', '1000');
  } catch {}
  // The bench's own session options, where asked: set on every session this process creates, whatever session.ts and
  // the trainer choose.
  if (MEM_PATTERN || ARENA) {
    const create = ort.InferenceSession.create.bind(ort.InferenceSession) as (...a: unknown[]) => Promise<ort.InferenceSession>;
    (ort.InferenceSession as { create: unknown }).create = (model: unknown, o: ort.InferenceSession.SessionOptions = {}) => create(model, {
      ...o,
      ...(MEM_PATTERN ? { enableMemPattern: MEM_PATTERN === 'on' } : {}),
      ...(ARENA ? { enableCpuMemArena: ARENA === 'on' } : {}),
    });
  }
  const rss = () => process.memoryUsage().rss / MB;
  let t0 = performance.now();
  const b = new GraphBuilder();
  const sample = b.input('sample', [1, 4, SIZE, SIZE]);
  const timestep = b.input('timestep', [1], 'int64');
  const context = b.input('encoder_hidden_states', [1, 77, SD15_UNET.crossAttentionDim]);
  const noise = b.input('noise', [1, 4, SIZE, SIZE]);
  const lora = mode === 'lora' ? loraConfigFor(freshLora(SD15_UNET, { rank: RANK, alpha: ALPHA, seed: 0 })) : undefined;
  const eps = unet({ b, params: new RandomInit(0), lora }, SD15_UNET, sample, timestep, context);
  const d = op.sub(eps, noise);
  b.output(op.mean(op.mul(d, d)), 'loss');
  const forwardNodes = b.graph.nodes.length;
  const tg = makeTrainingGraph(b.graph, 'loss', { trainable: mode === 'lora' ? isLoraParam : undefined, gradientCheckpointing: ckpt });
  const buildS = (performance.now() - t0) / 1000;
  const trainable = tg.params.reduce((n, p) => n + tg.initial.get(p)!.data.length, 0);
  t0 = performance.now();
  const optimizer = FusedAdamW.create({ lr: 1e-4, weightDecay: 1e-2, session: { threads: THREADS } });
  const trainer = await Trainer.create(tg, optimizer, { session: { threads: THREADS } });
  // The trainer holds its own flat copy of the trainable values now (as DreamBooth does: gigabytes in full mode).
  // (The starting values' backing stores are freed by a sweep after the collection: collect again a tick later.)
  tg.initial.clear();
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  await new Promise((r) => setTimeout(r, 100));
  gc?.();
  const sessionS = (performance.now() - t0) / 1000;
  const rssReady = rss();

  const rng = new Rng(1);
  const randn = (shape: number[]): HostTensor => ({ dtype: 'float32', shape, data: rng.fillNormal(new Float32Array(shape.reduce((a, c) => a * c, 1))) });
  const feeds = {
    sample: randn([1, 4, SIZE, SIZE]),
    timestep: { dtype: 'int64' as const, shape: [1], data: BigInt64Array.of(500n) },
    encoder_hidden_states: randn([1, 77, SD15_UNET.crossAttentionDim]),
    noise: randn([1, 4, SIZE, SIZE]),
  };
  const steps: number[] = [], grad: number[] = [], apply: number[] = [], losses: number[] = [];
  let rssAfterGradients = 0, rssAfterStep = 0;
  for (let i = 0; i <= STEPS; i++) {
    const a = performance.now();
    const { loss, grads } = await trainer.gradients(feeds);
    if (GC && gc) {
      // (A backing store is freed by a sweep after the collection that finds it unreachable.)
      gc();
      await new Promise((r) => setTimeout(r, 10));
      gc();
    }
    if (i === 0) rssAfterGradients = rss();
    const m = performance.now();
    await trainer.apply(grads);
    if (i === 0) rssAfterStep = rss();
    const e = performance.now();
    losses.push(loss);
    if (i > 0) { steps.push((e - a) / 1000); grad.push((m - a) / 1000); apply.push((e - m) / 1000); }
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const out: Result = {
    s_per_step: mean(steps), steps_s: steps, gradients_s: mean(grad), adamw_s: mean(apply), losses,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024, rss_ready_mb: rssReady, rss_after_first_gradients_mb: rssAfterGradients, rss_after_first_step_mb: rssAfterStep,
    build_s: buildS, session_s: sessionS, trainable, nodes: tg.graph.nodes.length, forward_nodes: forwardNodes,
    segments: tg.checkpointing?.plan.segments.length ?? null,
    saved_estimate_mb: tg.checkpointing ? Object.fromEntries(Object.entries(tg.checkpointing.plan.estimate).map(([k, v]) => [k, Math.round(v / MB)])) : null,
    mem_pattern: MEM_PATTERN ?? 'default', arena: ARENA ?? 'default', gc_after_gradients: GC,
  };
  await trainer.release();
  console.log(JSON.stringify(out));
}

// ---- parent: every row, one child at a time ----

/** MemAvailable (what can be allocated without swapping or killing), os.freemem() where /proc is missing. */
function available(): number {
  const m = /MemAvailable:\s+(\d+) kB/.exec(fs.existsSync('/proc/meminfo') ? fs.readFileSync('/proc/meminfo', 'utf8') : '');
  return m ? Number(m[1]) * 1024 : os.freemem();
}

function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv): Result | { skipped: string } {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 16 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.signal) return { skipped: `killed by ${r.signal}${r.signal === 'SIGKILL' ? ' (out of memory?)' : ''}` };
  if (r.status !== 0 || !last.startsWith('{')) return { skipped: `failed (exit ${r.status}): ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ')}` };
  return JSON.parse(last);
}

async function parent() {
  const wanted = (process.env.BENCH_ROWS ?? ROWS.map((r) => r.name).join(',')).split(',');
  const sides = (process.env.BENCH_SIDES ?? 'engine,torch').split(',');
  const haveTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
  const W = unetParamCount(SD15_UNET) * 4;
  // Activations and runtime overhead of one step at 512 px, batch 1: the LoRA rows' peaks less the weights, measured
  // on this machine (onnxruntime 1.30, torch 1.13: engine 8.4/4.2 GiB, torch ~7.3/3.9 GiB) plus ~10%. The full rows use
  // the LoRA row's measured peak when it ran in this bench.
  const ACT = { engine: { off: 9.5 * GB, on: 4.8 * GB }, torch: { off: 8.2 * GB, on: 4.4 * GB } };
  // FusedAdamW updates ADAMW_CHUNK (16M) values per run: its temporaries are a few chunks' worth.
  const OPT_TEMPS = 0.5 * GB;
  const measured: Record<string, Partial<Record<'engine' | 'torch', number>>> = {};
  const fmt = (b: number) => `${(b / GB).toFixed(1)} GB`;
  const estimate = (side: 'engine' | 'torch', row: Row): { need: number; why: string } => {
    const k = row.ckpt ? 'on' : 'off';
    const lora = measured[row.ckpt ? 'lora_ckpt' : 'lora']?.[side];
    const base = lora !== undefined ? lora * MB : W + ACT[side][k];
    const baseWhy = lora !== undefined ? `the LoRA row's peak ${fmt(base)}` : `weights ${fmt(W)} + activations ~${fmt(ACT[side][k])}`;
    if (row.mode === 'lora') return { need: W + ACT[side][k], why: `weights ${fmt(W)} + activations ~${fmt(ACT[side][k])}` };
    const opt = 3 * W; // gradients, exp_avg, exp_avg_sq
    if (side === 'torch') return { need: base + opt, why: `${baseWhy} + grads and AdamW moments ${fmt(opt)}` };
    return { need: base + opt + OPT_TEMPS, why: `${baseWhy} + grads and AdamW moments ${fmt(opt)} + FusedAdamW's temporaries ~${fmt(OPT_TEMPS)}` };
  };

  const results: Record<string, { engine?: Result | { skipped: string }; torch?: Result | { skipped: string } }> = {};
  const t0 = performance.now();
  for (const row of ROWS.filter((r) => wanted.includes(r.name))) {
    const res: (typeof results)[string] = (results[row.name] = {});
    for (const side of ['engine', 'torch'] as const) {
      if (!sides.includes(side)) continue;
      if (side === 'torch' && !haveTorch) {
        res.torch = { skipped: 'no /usr/bin/python3 with torch (apt-get install python3-torch)' };
        continue;
      }
      const { need, why } = estimate(side, row);
      const avail = available();
      if (need > 0.97 * avail) {
        res[side] = { skipped: `needs ~${fmt(need)} (${why}), ${fmt(avail)} available` };
        console.log(`${row.name} ${side}: skipped, ${res[side]!.skipped}`);
        continue;
      }
      const ts = performance.now();
      const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: String(THREADS) };
      const r = side === 'engine'
        ? runChild(process.execPath, ['--expose-gc', '--import', 'tsx', import.meta.filename, '--child', row.mode, row.ckpt ? 'on' : 'off'], env)
        : runChild('/usr/bin/python3', [path.join(import.meta.dirname, '../scripts/torch/bench_sd_train_step.py'), '--mode', row.mode, ...(row.ckpt ? ['--ckpt'] : []),
          '--steps', String(STEPS), '--threads', String(THREADS), '--size', String(SIZE), '--rank', String(RANK), '--alpha', String(ALPHA)], env);
      res[side] = r;
      if ('skipped' in r) console.log(`${row.name} ${side}: ${r.skipped}`);
      else {
        (measured[row.name] ??= {})[side] = r.peak_rss_mb;
        const extra = side === 'engine'
          ? `(gradients ${(r.gradients_s as number).toFixed(1)} s + AdamW ${(r.adamw_s as number).toFixed(2)} s; ${r.nodes} nodes${r.segments ? `, ${r.segments} segments (planner's saved-bytes estimate ${JSON.stringify(r.saved_estimate_mb)} MB)` : ''}; RSS ${Math.round(r.rss_ready_mb as number)} MB before the first step, ${Math.round(r.rss_after_first_gradients_mb as number)} MB after its gradients; build ${(r.build_s as number).toFixed(0)} s + sessions ${(r.session_s as number).toFixed(0)} s)`
          : `(torch ${r.torch_version}; model ${(r.build_s as number).toFixed(0)} s)`;
        console.log(`${row.name} ${side}: ${r.s_per_step.toFixed(1)} s/step [${r.steps_s.map((s) => s.toFixed(1)).join(', ')}], peak RSS ${r.peak_rss_mb.toFixed(0)} MB, loss ${r.losses.map((l) => l.toFixed(4)).join(' ')} ${extra}; ${((performance.now() - ts) / 1000).toFixed(0)} s wall`);
      }
    }
  }

  const num = (r: Result | { skipped: string } | undefined, k: 's_per_step' | 'peak_rss_mb', digits: number) =>
    r && !('skipped' in r) ? +r[k].toFixed(digits) : null;
  const ratio = (a: number | null, b: number | null) => (a !== null && b !== null ? `${(a / b).toFixed(2)}x` : '-');
  const cell = (v: number | null, unit: string) => (v === null ? 'skipped' : `${v}${unit}`);
  const engineOptions = [MEM_PATTERN && `BENCH_MEM_PATTERN=${MEM_PATTERN}`, ARENA && `BENCH_ARENA=${ARENA}`, GC && 'BENCH_GC=1'].filter(Boolean);
  console.log(`\nSD1.5 UNet training step, batch 1, ${SIZE}x${SIZE} latent, ${THREADS} threads, ${STEPS} timed steps after 1 warm-up (LoRA rank ${RANK}, alpha ${ALPHA}; AdamW)${engineOptions.length ? `; engine with ${engineOptions.join(', ')}` : ''}`);
  console.log('row        | engine s/step | pytorch s/step | ratio | engine peak RSS | pytorch peak RSS | ratio');
  const json: Record<string, Record<string, number | string | null>> = {};
  for (const [name, r] of Object.entries(results)) {
    const e = { s: num(r.engine, 's_per_step', 2), m: num(r.engine, 'peak_rss_mb', 0) };
    const t = { s: num(r.torch, 's_per_step', 2), m: num(r.torch, 'peak_rss_mb', 0) };
    console.log(`${name.padEnd(10)} | ${cell(e.s, ' s').padStart(13)} | ${cell(t.s, ' s').padStart(14)} | ${ratio(e.s, t.s).padStart(5)} | ${cell(e.m, ' MB').padStart(15)} | ${cell(t.m, ' MB').padStart(16)} | ${ratio(e.m, t.m)}`);
    const skipped = (['engine', 'torch'] as const).flatMap((side) => (r[side] && 'skipped' in r[side]! ? [`${side === 'torch' ? 'pytorch' : side}: ${(r[side] as { skipped: string }).skipped}`] : []));
    json[name] = { s_per_step: e.s, peak_rss_mb: e.m, torch_s_per_step: t.s, torch_peak_rss_mb: t.m, ...(skipped.length ? { skipped: skipped.join('; ') } : {}) };
  }
  for (const s of Object.values(json)) if (s.skipped) console.log(`  ${Object.keys(json).find((k) => json[k] === s)} skipped: ${s.skipped}`);
  console.log(`bench took ${((performance.now() - t0) / 60000).toFixed(1)} min`);
  console.log(JSON.stringify(json));
}

const args = process.argv.slice(2);
if (args[0] === '--child') await child(args[1] as Mode, args[2] === 'on');
else await parent();
