// Small helpers every stage of `npm run train:world` shares: logging, float32 tensors, safetensors files, batches of
// rendered images.
import fs from 'node:fs';
import { imagesToTensor } from '../../src/runtime/diffusion/latent-images.js';
import { type ImageBatch, imageBatch } from '../../src/runtime/engine/image.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/runtime/engine/safetensors.js';
import type { HostTensor } from '../../src/runtime/onnx/tensor.js';

export const f32 = (shape: number[], data: Float32Array): HostTensor => ({ dtype: 'float32', shape, data });
export const secs = (t0: number) => (performance.now() - t0) / 1000;
export const fmt = (x: number, d = 4) => x.toFixed(d);
export const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

export function countValues(m: Map<string, number[]>): number {
  let n = 0;
  for (const s of m.values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

/** Written to a temporary name first, so an interrupted run never leaves half a file under the real one. */
export function saveWeights(file: string, w: Map<string, HostTensor>, meta: Record<string, string> = {}): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, encodeSafetensors(Object.fromEntries(w), meta));
  fs.renameSync(tmp, file);
}

export function loadWeights(file: string): { weights: Map<string, HostTensor>; meta: Record<string, string> } {
  const { tensors, metadata } = decodeSafetensors(fs.readFileSync(file), file);
  return { weights: new Map(Object.entries(tensors)), meta: metadata };
}

/** Images [0,1] HWC -> [B,3,H,W] in [-1,1], for rows `idx` of a big batch. */
export function pickImages(all: ImageBatch, idx: number[]): HostTensor {
  const per = all.height * all.width * all.channels;
  const sub = imageBatch(idx.length, all.height, all.width, all.channels);
  idx.forEach((k, i) => sub.data.set(all.data.subarray(k * per, (k + 1) * per), i * per));
  return imagesToTensor(sub);
}

/** Runs a stage, logs and records its time. */
export async function timed<T>(times: Record<string, number>, name: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const r = await f();
  times[name] = secs(t0);
  log(`stage ${name}: ${times[name].toFixed(1)} s`);
  return r;
}
