// The pipeline on the WebGPU provider gives the CPU's numbers: sampling, a short DreamBooth and one DDPO epoch on the
// embedded model, each run on both providers from the same start (lavapipe in CI; skipped, and reported so, where no
// adapter exists). The reward is the images' brightness, a smooth function of the pixels, so float differences
// between the providers stay float differences instead of flipping a 0/1 judgment.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import type { ImageBatch } from '../../src/runtime/engine/image.js';
import type { ExecutionProvider } from '../../src/runtime/engine/session.js';
import type { HostTensor } from '../../src/runtime/onnx/tensor.js';
import { loadSdModel } from '../../src/runtime/models/sd-model.js';
import { SdPipeline } from '../../src/runtime/models/sd-pipeline.js';
import type { AlignmentScorer } from '../../src/runtime/rewards/types.js';
import { trainDdpo } from '../../src/runtime/training/ddpo.js';
import { trainDreamBooth } from '../../src/runtime/training/dreambooth.js';
import { subjectReferences, SUBJECTS } from '../../src/runtime/world/index.js';
import { webgpuForTests } from '../webgpu-available.js';

const skip = !webgpuForTests() && 'no WebGPU adapter (see test/webgpu-available.ts)';
const model = loadSdModel(path.join(import.meta.dirname, '../../models/embedded'));
const session = (provider: ExecutionProvider) => ({ provider, threads: 2 });

/** max |a - b| over the elements, and the same relative to max |a|. */
function gap(a: ArrayLike<number>, b: ArrayLike<number>): { abs: number; rel: number } {
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) [d, m] = [Math.max(d, Math.abs(a[i] - b[i])), Math.max(m, Math.abs(a[i]))];
  return { abs: d, rel: d / Math.max(m, 1e-12) };
}

/** ||a - b|| / ||a|| over every tensor: Adam moves each weight by about lr * sign(gradient), so an element whose
 * gradient is float noise may move either way on either provider; the adapter as a whole must agree. */
function weightsGap(a: Map<string, HostTensor>, b: Map<string, HostTensor>): number {
  let d = 0, n = 0;
  for (const [k, t] of a) {
    const x = t.data as Float32Array, y = b.get(k)!.data as Float32Array;
    for (let i = 0; i < x.length; i++) [d, n] = [d + (x[i] - y[i]) ** 2, n + x[i] ** 2];
  }
  return Math.sqrt(d / n);
}

const brightness: AlignmentScorer = {
  score: async (im: ImageBatch) => {
    const per = im.height * im.width * im.channels;
    return Array.from({ length: im.count }, (_, i) => im.data.subarray(i * per, (i + 1) * per).reduce((s, v) => s + v, 0) / per);
  },
};

test('sampling on WebGPU draws the CPU\'s images', { skip, timeout: 600_000 }, async () => {
  const req = { prompts: ['a red circle on the grass', 'a blue star wearing a hat'], seeds: [1, 2], steps: 6, guidance: 5, scheduler: 'ddim' as const };
  const draw = async (p: ExecutionProvider) => {
    const pipe = new SdPipeline(model, undefined, session(p));
    try {
      return (await pipe.sample(req)).images.data;
    } finally {
      await pipe.release();
    }
  };
  const g = gap(await draw('cpu'), await draw('webgpu'));
  assert.ok(g.abs < 2e-3, `largest pixel difference ${g.abs}`);
});

test('a short DreamBooth on WebGPU takes the CPU\'s steps', { skip, timeout: 600_000 }, async () => {
  const subject = SUBJECTS[0];
  const run = (p: ExecutionProvider) => trainDreamBooth(model, {
    instancePrompt: `a ${subject.identifier} ${subject.classNoun}`, instanceImages: subjectReferences(subject).images,
    mode: 'lora', loraRank: 2, steps: 3, batchSize: 1, lr: 1e-3, seed: 0, sessionOptions: session(p),
  });
  const [cpu, gpu] = [await run('cpu'), await run('webgpu')];
  const losses = gap(cpu.losses, gpu.losses);
  assert.ok(losses.rel < 1e-3, `losses ${cpu.losses} vs ${gpu.losses}`);
  const w = weightsGap(cpu.lora!.weights, gpu.lora!.weights);
  console.log(`DreamBooth adapter: relative L2 difference ${w.toExponential(2)}`);
  assert.ok(w < 1e-3, `adapter weights differ by ${w} (relative L2)`);
});

test('one DDPO epoch on WebGPU gives the CPU\'s rewards, statistics and adapter', { skip, timeout: 600_000 }, async () => {
  const run = (p: ExecutionProvider) => trainDdpo(model, {
    prompts: ['a red circle', 'a blue square'], reward: brightness, epochs: 1, samplesPerEpoch: 4, sampleBatch: 4, steps: 4, guidance: 5,
    trainBatch: 4, timestepFraction: 0.5, lr: 1e-3, loraRank: 2, seed: 0, sessionOptions: session(p),
  });
  const [cpu, gpu] = [await run('cpu'), await run('webgpu')];
  const [a, b] = [cpu.history[0], gpu.history[0]];
  assert.ok(Math.abs(a.rewardMean - b.rewardMean) < 1e-4, `reward ${a.rewardMean} vs ${b.rewardMean}`);
  assert.ok(Math.abs(a.loss - b.loss) <= 1e-3 * Math.max(1e-3, Math.abs(a.loss)) + 1e-6, `loss ${a.loss} vs ${b.loss}`);
  assert.ok(b.logpMismatch < 1e-3, `WebGPU's sampler and training graph agree on log-probs (${b.logpMismatch})`);
  const w = weightsGap(cpu.lora.weights, gpu.lora.weights);
  console.log(`DDPO adapter: relative L2 difference ${w.toExponential(2)}`);
  assert.ok(w < 1e-4, `adapter weights differ by ${w} (relative L2)`);
});

test('sampling in fp16 on WebGPU (shader-f16) draws the fp32 CPU images to within half-precision rounding', { skip, timeout: 600_000 }, async () => {
  const req = { prompts: ['a red circle on the grass', 'a blue star wearing a hat'], seeds: [1, 2], steps: 6, guidance: 5, scheduler: 'ddim' as const };
  const draw = async (p: ExecutionProvider, precision: 'fp32' | 'fp16') => {
    const pipe = new SdPipeline(model, undefined, session(p), { precision });
    try {
      return (await pipe.sample(req)).images.data;
    } finally {
      await pipe.release();
    }
  };
  const g = gap(await draw('cpu', 'fp32'), await draw('webgpu', 'fp16'));
  console.log(`fp16 on WebGPU against fp32 on the CPU: largest pixel difference ${g.abs.toExponential(2)}`);
  assert.ok(g.abs > 0 && g.abs < 0.05, `largest pixel difference ${g.abs}`);
});
