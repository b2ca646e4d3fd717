// Memory of loading a full-size SD1.5 single-file checkpoint: generates one with random weights in os.tmpdir() (in a
// child process, so its memory does not count), loads one component, reports baseline RSS, peak RSS, the size of the
// loaded weights and (peak - baseline) / weights (target: <= 2), then deletes the file. Last line: JSON.
//   BENCH_DTYPE=float32|float16|bfloat16 (stored dtype, default float32)  BENCH_COMPONENT=unet|vae|text_encoder
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadComponent } from '../src/runtime/models/weights/checkpoint-load.js';
import { detectCheckpoint } from '../src/runtime/models/weights/checkpoint.js';
import type { ComponentName } from '../src/runtime/models/weights/sd15-layout.js';

const dtype = process.env.BENCH_DTYPE ?? 'float32';
const component = (process.env.BENCH_COMPONENT ?? 'unet') as ComponentName;
const GB = 1e9;
const fileBytes = dtype === 'float32' ? 4.27e9 : 2.14e9;

const stat = fs.statfsSync(os.tmpdir());
const free = stat.bavail * stat.bsize;
if (free < fileBytes * 1.2) {
  console.error(`load-checkpoint: skipped, ${os.tmpdir()} has ${(free / GB).toFixed(1)} GB free and the file needs ${(fileBytes / GB).toFixed(1)} GB`);
  process.exit(0);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'instructbooth-bench-'));
const file = path.join(dir, `random-sd15-${dtype}.safetensors`);
try {
  const script = fileURLToPath(new URL('../scripts/make-random-sd15-checkpoint.ts', import.meta.url));
  const t0 = performance.now();
  execFileSync(process.execPath, ['--import', 'tsx', script, file, '--dtype', dtype], { stdio: 'inherit' });
  const genS = (performance.now() - t0) / 1000;

  const baseline = process.memoryUsage().rss;
  const t1 = performance.now();
  const ckpt = detectCheckpoint(file);
  const { weights, report } = loadComponent(ckpt, component, { strict: true });
  const loadS = (performance.now() - t1) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  let bytes = 0;
  for (const t of weights.values()) bytes += t.data.byteLength;
  const ratio = (peak - baseline) / bytes;

  console.log(`file: ${(fs.statSync(file).size / GB).toFixed(2)} GB ${dtype}, generated in ${genS.toFixed(1)} s`);
  console.log(`${component}: ${report.loaded} tensors, ${(bytes / GB).toFixed(2)} GB float32, loaded in ${loadS.toFixed(1)} s`);
  console.log(`RSS baseline ${(baseline / GB).toFixed(2)} GB, peak ${(peak / GB).toFixed(2)} GB, (peak - baseline) / weights = ${ratio.toFixed(2)} (target <= 2)`);
  console.log(JSON.stringify({ bench: 'load-checkpoint', dtype, component, tensors: report.loaded, weightsBytes: bytes, baselineRss: baseline, peakRss: peak, ratio: Number(ratio.toFixed(3)), loadSeconds: Number(loadS.toFixed(2)) }));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
