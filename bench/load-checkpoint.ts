// Memory and start-up of loading a full-size SD1.5 single-file checkpoint: generates one with random weights in
// os.tmpdir() (in a child process, so its memory does not count), loads it, reports baseline RSS, peak RSS, the size
// of the loaded weights and (peak - baseline) / weights, then deletes the file. Last line: JSON.
//   BENCH_COMPONENT=pipeline (default): the whole pipeline as sampling holds it: all three components loaded, then
//     the text encoder, UNet and VAE decoder each built as a graph over the loaded weights, given a session and run
//     once (UNet and VAE at BENCH_LATENT x BENCH_LATENT latents, default 32). Per network: build, session and first
//     run seconds, and whether the session shares the loaded weights (held once) or copies them.
//     Targets: (peak - baseline) / weights near 1 (each weight held once; the rest is activations), and build +
//     session at most 10 s per network.
//   BENCH_COMPONENT=unet|vae|text_encoder: loading one component only (target: ratio <= 2).
//   BENCH_DTYPE=float32|float16|bfloat16 (stored dtype, default float32)  BENCH_WEIGHTS=auto|shared|copied
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../src/runtime/onnx/random.js';
import { Session } from '../src/runtime/engine/session.js';
import { type HostTensor, tensor } from '../src/runtime/onnx/tensor.js';
import { CLIP_TEXT_SD15, clipText } from '../src/runtime/models/clip-text.js';
import { SD15_UNET, SD15_VAE } from '../src/runtime/models/configs.js';
import { unet } from '../src/runtime/models/unet.js';
import { vaeDecode } from '../src/runtime/models/vae.js';
import { loadComponent } from '../src/runtime/models/weights/checkpoint-load.js';
import { detectCheckpoint } from '../src/runtime/models/weights/checkpoint.js';
import type { ComponentName } from '../src/runtime/models/weights/sd15-layout.js';
import { GraphBuilder } from '../src/runtime/onnx/builder.js';
import { WeightsSource } from '../src/runtime/onnx/params.js';

const dtype = process.env.BENCH_DTYPE ?? 'float32';
const component = (process.env.BENCH_COMPONENT ?? 'pipeline') as ComponentName | 'pipeline';
const LATENT = Number(process.env.BENCH_LATENT ?? 32);
const WEIGHTS = (process.env.BENCH_WEIGHTS ?? 'auto') as 'auto' | 'shared' | 'copied';
const THREADS = 2;
const GB = 1e9;
const fileBytes = dtype === 'float32' ? 4.27e9 : 2.14e9;

const stat = fs.statfsSync(os.tmpdir());
const free = stat.bavail * stat.bsize;
if (free < fileBytes * 1.2) {
  console.error(`load-checkpoint: skipped, ${os.tmpdir()} has ${(free / GB).toFixed(1)} GB free and the file needs ${(fileBytes / GB).toFixed(1)} GB`);
  process.exit(0);
}

const rss = () => process.memoryUsage().rss;
const peakRss = () => process.resourceUsage().maxRSS * 1024;
const seconds = (t: number) => (performance.now() - t) / 1000;
const bytesOf = (w: Map<string, HostTensor>) => [...w.values()].reduce((n, t) => n + t.data.byteLength, 0);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'instructbooth-bench-'));
const file = path.join(dir, `random-sd15-${dtype}.safetensors`);
try {
  const script = fileURLToPath(new URL('../scripts/make-random-sd15-checkpoint.ts', import.meta.url));
  const t0 = performance.now();
  execFileSync(process.execPath, ['--import', 'tsx', script, file, '--dtype', dtype], { stdio: 'inherit' });
  const genS = seconds(t0);
  console.log(`file: ${(fs.statSync(file).size / GB).toFixed(2)} GB ${dtype}, generated in ${genS.toFixed(1)} s`);

  const baseline = rss();
  const ckpt = detectCheckpoint(file);
  if (component !== 'pipeline') {
    const t1 = performance.now();
    const { weights, report } = loadComponent(ckpt, component, { strict: true });
    const loadS = seconds(t1);
    const peak = peakRss();
    const bytes = bytesOf(weights);
    const ratio = (peak - baseline) / bytes;
    console.log(`${component}: ${report.loaded} tensors, ${(bytes / GB).toFixed(2)} GB float32, loaded in ${loadS.toFixed(1)} s`);
    console.log(`RSS baseline ${(baseline / GB).toFixed(2)} GB, peak ${(peak / GB).toFixed(2)} GB, (peak - baseline) / weights = ${ratio.toFixed(2)} (target <= 2)`);
    console.log(JSON.stringify({ bench: 'load-checkpoint', dtype, component, tensors: report.loaded, weightsBytes: bytes, baselineRss: baseline, peakRss: peak, ratio: Number(ratio.toFixed(3)), loadSeconds: Number(loadS.toFixed(2)) }));
  } else {
    const t1 = performance.now();
    const loaded = Object.fromEntries((['text_encoder', 'unet', 'vae'] as const).map((c) => [c, loadComponent(ckpt, c, { strict: true }).weights]));
    const loadS = seconds(t1);
    const bytes = Object.values(loaded).reduce((n, w) => n + bytesOf(w), 0);
    const afterLoad = rss();
    console.log(`loaded text encoder, UNet and VAE: ${(bytes / GB).toFixed(2)} GB float32 in ${loadS.toFixed(1)} s; RSS ${(baseline / GB).toFixed(2)} -> ${(afterLoad / GB).toFixed(2)} GB`);

    const rng = new Rng(1);
    const randn = (shape: number[]): HostTensor => tensor('float32', shape, rng.fillNormal(new Float32Array(shape.reduce((a, c) => a * c, 1))));
    const nets: { name: string; build: (b: GraphBuilder) => void; feeds: Record<string, HostTensor> }[] = [
      {
        name: 'text_encoder',
        build: (b) => b.output(clipText({ b, params: new WeightsSource(loaded.text_encoder) }, CLIP_TEXT_SD15, b.input('input_ids', [1, 77], 'int64')).lastHidden, 'hidden'),
        feeds: { input_ids: tensor('int64', [1, 77], BigInt64Array.from({ length: 77 }, (_, i) => BigInt(i < 8 ? 49406 + (i % 2) : 49407))) },
      },
      {
        name: 'unet',
        build: (b) => b.output(unet({ b, params: new WeightsSource(loaded.unet) }, SD15_UNET, b.input('sample', [1, 4, LATENT, LATENT]), b.input('timestep', [1], 'int64'), b.input('encoder_hidden_states', [1, 77, 768])), 'eps'),
        feeds: { sample: randn([1, 4, LATENT, LATENT]), timestep: tensor('int64', [1], BigInt64Array.of(500n)), encoder_hidden_states: randn([1, 77, 768]) },
      },
      {
        name: 'vae_decoder',
        build: (b) => b.output(vaeDecode({ b, params: new WeightsSource(loaded.vae) }, SD15_VAE, b.input('latents', [1, 4, LATENT, LATENT])), 'image'),
        feeds: { latents: randn([1, 4, LATENT, LATENT]) },
      },
    ];
    const rows: Record<string, number | string>[] = [];
    const sessions: Session[] = [];
    for (const net of nets) {
      let t = performance.now();
      const b = new GraphBuilder();
      net.build(b);
      const buildS = seconds(t);
      t = performance.now();
      const s = await Session.fromGraph(b.graph, { threads: THREADS, weights: WEIGHTS });
      const sessionS = seconds(t);
      const rssSession = rss();
      t = performance.now();
      await s.run(net.feeds);
      const runS = seconds(t);
      sessions.push(s);
      let w = 0;
      for (const x of b.graph.initializers.values()) w += x.data.byteLength;
      const shared = s.sharedWeights.length ? `${s.sharedWeights.length} weights shared (held once)` : 'weights copied into the session';
      console.log(`${net.name}: ${(w / GB).toFixed(2)} GB of weights, ${shared}; build ${buildS.toFixed(1)} s + session ${sessionS.toFixed(1)} s = ${(buildS + sessionS).toFixed(1)} s (target <= 10), first run ${runS.toFixed(1)} s; RSS after session ${(rssSession / GB).toFixed(2)} GB`);
      rows.push({ net: net.name, weightsBytes: w, shared: s.sharedWeights.length, buildSeconds: +buildS.toFixed(2), sessionSeconds: +sessionS.toFixed(2), runSeconds: +runS.toFixed(2), rssAfterSession: rssSession });
    }
    const peak = peakRss();
    const ratio = (peak - baseline) / bytes;
    console.log(`RSS baseline ${(baseline / GB).toFixed(2)} GB, weights ${(bytes / GB).toFixed(2)} GB, peak with all three sessions run ${(peak / GB).toFixed(2)} GB: (peak - baseline) / weights = ${ratio.toFixed(2)} (1 = each weight held once, the rest activations)`);
    for (const s of sessions) await s.release();
    console.log(JSON.stringify({ bench: 'load-checkpoint', dtype, component, latent: LATENT, weights: WEIGHTS, weightsBytes: bytes, baselineRss: baseline, peakRss: peak, ratio: Number(ratio.toFixed(3)), loadSeconds: Number(loadS.toFixed(2)), nets: rows }));
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
