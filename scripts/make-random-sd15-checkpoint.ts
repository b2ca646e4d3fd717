// Writes a full-size SD1.5 single-file checkpoint with random weights: every UNet/VAE/CLIP tensor under its LDM key
// with its real shape (derived by rule, src/runtime/models/weights/), plus the position_ids and noise-schedule
// buffers real files carry: 1,143 tensors, 4.3 GB in float32 or 2.1 GB in float16. For benchmarks of checkpoint
// loading; tensors are generated one at a time while the file is written, so this needs little memory.
//   node --import tsx scripts/make-random-sd15-checkpoint.ts <out.safetensors> [--dtype float32|float16|bfloat16] [--seed N]
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../src/runtime/onnx/random.js';
import { diffusersToLdm, LDM_PREFIX, toLdmShape } from '../src/runtime/models/weights/ldm-keys.js';
import { COMPONENTS, componentShapes, SD15 } from '../src/runtime/models/weights/sd15-layout.js';
import { castFloat, writeSafetensorsStreamed, type PendingTensor } from '../src/runtime/models/weights/tensor-io.js';

export type CheckpointDType = 'float32' | 'float16' | 'bfloat16';

/** The LatentDiffusion buffers of the scaled-linear schedule (docs/algorithms.md), as LDM files hold them. */
function scheduleBuffers(): Record<string, Float32Array> {
  const T = 1000;
  const betas = Array.from({ length: T }, (_, i) => (Math.sqrt(0.00085) + (i / (T - 1)) * (Math.sqrt(0.012) - Math.sqrt(0.00085))) ** 2);
  const ab: number[] = [];
  betas.reduce((acc, b, i) => (ab[i] = acc * (1 - b)), 1);
  const prev = [1, ...ab.slice(0, -1)];
  const postVar = betas.map((b, i) => (b * (1 - prev[i])) / (1 - ab[i]));
  const f = (xs: number[]) => Float32Array.from(xs);
  return {
    betas: f(betas),
    alphas_cumprod: f(ab),
    alphas_cumprod_prev: f(prev),
    sqrt_alphas_cumprod: f(ab.map(Math.sqrt)),
    sqrt_one_minus_alphas_cumprod: f(ab.map((a) => Math.sqrt(1 - a))),
    log_one_minus_alphas_cumprod: f(ab.map((a) => Math.log(1 - a))),
    sqrt_recip_alphas_cumprod: f(ab.map((a) => Math.sqrt(1 / a))),
    sqrt_recipm1_alphas_cumprod: f(ab.map((a) => Math.sqrt(1 / a - 1))),
    posterior_variance: f(postVar),
    posterior_log_variance_clipped: f(postVar.map((v) => Math.log(Math.max(v, 1e-20)))),
    posterior_mean_coef1: f(betas.map((b, i) => (b * Math.sqrt(prev[i])) / (1 - ab[i]))),
    posterior_mean_coef2: f(betas.map((b, i) => ((1 - prev[i]) * Math.sqrt(1 - b)) / (1 - ab[i]))),
  };
}

export interface RandomCheckpointInfo {
  tensors: number;
  bytes: number;
}

export function makeRandomSd15Checkpoint(file: string, o: { dtype?: CheckpointDType; seed?: number } = {}): RandomCheckpointInfo {
  const dtype = o.dtype ?? 'float32';
  const rng = new Rng(o.seed ?? 0);
  const tensors: PendingTensor[] = [];
  for (const c of COMPONENTS) {
    for (const [name, shape] of componentShapes(c, SD15)) {
      const n = shape.reduce((a, b) => a * b, 1);
      // Small uniform values with the fan-in scale of torch's default init; 1 for norm scales.
      const bound = shape.length > 1 ? 1 / Math.sqrt(n / shape[0]) : 0.02;
      const isNormScale = /norm[^.]*\.weight$|layer_norm\d\.weight$/.test(name) && shape.length === 1;
      tensors.push({
        name: diffusersToLdm(c, name, SD15),
        dtype,
        shape: toLdmShape(c, name, shape),
        data: () => {
          const f = new Float32Array(n);
          if (isNormScale) f.fill(1);
          else rng.fillUniform(f, -bound, bound);
          return castFloat({ dtype: 'float32', shape, data: f }, dtype, name);
        },
      });
    }
  }
  tensors.push({
    name: `${LDM_PREFIX.text_encoder}text_model.embeddings.position_ids`, dtype: 'int64', shape: [1, 77],
    data: () => BigInt64Array.from({ length: 77 }, (_, i) => BigInt(i)),
  });
  for (const [name, data] of Object.entries(scheduleBuffers())) tensors.push({ name, dtype: 'float32', shape: [data.length], data: () => data });
  writeSafetensorsStreamed(file, tensors, { format: 'pt', note: 'random weights in the SD1.5 LDM layout (instructbooth benchmark)' });
  const bytes = tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1) * (t.dtype === 'int64' ? 8 : t.dtype === 'float32' ? 4 : 2), 0);
  return { tensors: tensors.length, bytes };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const flag = (f: string) => { const i = args.indexOf(f); return i >= 0 ? args.splice(i, 2)[1] : undefined; };
  const dtype = (flag('--dtype') ?? 'float32') as CheckpointDType;
  const seed = Number(flag('--seed') ?? 0);
  const out = args[0];
  if (!out || !['float32', 'float16', 'bfloat16'].includes(dtype)) {
    console.error('usage: node --import tsx scripts/make-random-sd15-checkpoint.ts <out.safetensors> [--dtype float32|float16|bfloat16] [--seed N]');
    process.exit(1);
  }
  const t0 = performance.now();
  const info = makeRandomSd15Checkpoint(out, { dtype, seed });
  console.log(`${out}: ${info.tensors} tensors, ${(info.bytes / 1e9).toFixed(2)} GB (${dtype}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
