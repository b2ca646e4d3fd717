// Shared test data: the deterministic arrays torch_reference.py also builds, the torch fixture, fake denoisers, and a
// mini UNet wrapped as a Denoiser.
import fs from 'node:fs';
import path from 'node:path';
import { Session } from '../../src/runtime/engine/session.js';
import { f32, type HostTensor, i64 } from '../../src/runtime/onnx/tensor.js';
import type { Denoiser } from '../../src/runtime/diffusion/sampler.js';
import { GraphBuilder, type Sym } from '../../src/runtime/onnx/builder.js';
import { type MiniUNetConfig, miniUNet } from '../../src/runtime/models/mini-unet.js';
import { RandomInit } from '../../src/runtime/onnx/params.js';

export const REF = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures/torch-reference.json'), 'utf8'));

/** [2,4,3,3]: x[k] = sin(0.37k + 0.1), eps[k] = 1.3 cos(0.23k), z[k] = 1.1 sin(1.7k) (float32), as in torch_reference.py. */
export const REF_SHAPE = [2, 4, 3, 3];
const ramp = (f: (k: number) => number) => f32(REF_SHAPE, Float32Array.from({ length: 72 }, (_, k) => f(k)));
export const refXt = () => ramp((k) => Math.sin(0.37 * k + 0.1));
export const refEps = () => ramp((k) => Math.cos(0.23 * k) * 1.3);
export const refNoise = () => ramp((k) => Math.sin(1.7 * k) * 1.1);

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths ${a.length} and ${b.length} differ`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * A deterministic per-sample fake UNet: eps_i depends only on sample i's latents, its timestep and its cond, so a
 * sample's result cannot depend on the rest of the batch. Records every call.
 */
export class FakeDenoiser implements Denoiser {
  calls: { latents: HostTensor; timesteps: number[]; cond: HostTensor }[] = [];
  async predict(latents: HostTensor, timesteps: number[], cond: HostTensor): Promise<HostTensor> {
    this.calls.push({ latents, timesteps, cond });
    const [n] = latents.shape;
    const per = latents.data.length / n, cper = cond.data.length / n;
    const x = latents.data as Float32Array, c = cond.data as Float32Array;
    const out = new Float32Array(x.length);
    for (let i = 0; i < n; i++) {
      let cm = 0;
      for (let k = 0; k < cper; k++) cm += c[i * cper + k] * ((k % 5) - 2);
      cm /= cper;
      for (let k = 0; k < per; k++) out[i * per + k] = 0.6 * x[i * per + k] + Math.tanh(cm + 0.001 * timesteps[i]) * Math.sin(k + 1);
    }
    return f32([...latents.shape], out);
  }
}

/** The model that predicts exactly the noise of z_t = sqrt(ab) x0 + sqrt(1-ab) n for a known x0. */
export function perfectDenoiser(alphasCumprod: Float64Array, x0: Float32Array): Denoiser {
  return {
    async predict(latents, timesteps) {
      const [n] = latents.shape;
      const per = x0.length;
      const x = latents.data as Float32Array;
      const out = new Float32Array(x.length);
      for (let i = 0; i < n; i++) {
        const ab = alphasCumprod[timesteps[i]];
        for (let k = 0; k < per; k++) out[i * per + k] = (x[i * per + k] - Math.sqrt(ab) * x0[k]) / Math.sqrt(1 - ab);
      }
      return f32([...latents.shape], out);
    },
  };
}

export const MINI: MiniUNetConfig = { c: 8, temb: 16, ctx: 8, heads: 2, groups: 4 };
export const MINI_TOKENS = 5;
export const MINI_SEED = 21;

/** Builds eps = miniUNet(sample, t, ctx) in a builder with weights from RandomInit(MINI_SEED). */
export function buildMiniUNet(b: GraphBuilder, sample: Sym, t: Sym, ctx: Sym): Sym {
  return miniUNet({ b, params: new RandomInit(MINI_SEED) }, MINI, sample, t, ctx);
}

/** The mini UNet as a Denoiser (fixed batch n, latents [n,4,h,w]). */
export async function miniDenoiser(n: number, h: number, w: number): Promise<Denoiser & { release(): Promise<void> }> {
  const b = new GraphBuilder();
  const sample = b.input('sample', [n, 4, h, w]);
  const t = b.input('timestep', [n], 'int64');
  const ctx = b.input('encoder_hidden_states', [n, MINI_TOKENS, MINI.ctx]);
  b.output(buildMiniUNet(b, sample, t, ctx), 'out_sample');
  const session = await Session.fromGraph(b.graph, { threads: 1, optimization: 'disabled' });
  return {
    async predict(latents, timesteps, cond) {
      const r = await session.run({ sample: latents, timestep: i64([timesteps.length], timesteps), encoder_hidden_states: cond }, ['out_sample']);
      return r.out_sample;
    },
    release: () => session.release(),
  };
}
