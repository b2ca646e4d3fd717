// Training-time noising and timestep draws.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addNoise, sampleTrainingTimesteps } from '../../src/runtime/diffusion/ddpm.js';
import { NoiseSchedule } from '../../src/runtime/diffusion/schedule.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { f32 } from '../../src/runtime/onnx/tensor.js';
import { refEps, refXt } from './helpers.js';

const schedule = new NoiseSchedule();

test('addNoise: z_t = sqrt(ab_t) z + sqrt(1 - ab_t) n with t per sample', () => {
  // ab values from torch_reference.py (alphas_cumprod at 250 and 981).
  const ab = [0.6737926252333216, 0.005775500139495754];
  const x0 = refXt(), n = refEps();
  const zt = addNoise(schedule, x0, n, [250, 981]);
  assert.deepEqual(zt.shape, [2, 4, 3, 3]);
  const x = x0.data as Float32Array, e = n.data as Float32Array, z = zt.data as Float32Array;
  for (let k = 0; k < 72; k++) {
    const a = ab[k < 36 ? 0 : 1];
    const want = Math.sqrt(a) * x[k] + Math.sqrt(1 - a) * e[k];
    assert.ok(Math.abs(z[k] - want) < 1e-6, `${k}: ${z[k]} vs ${want}`);
  }
  assert.deepEqual(addNoise(schedule, x0, n, 250).data.slice(0, 36), z.slice(0, 36), 'a shared timestep');
  assert.throws(() => addNoise(schedule, x0, f32([2, 36]), 1), /same \[B, \.\.\.\] shape/);
  assert.throws(() => addNoise(schedule, x0, n, [1, 1000]), /timestep 1000/);
  assert.throws(() => addNoise(schedule, x0, n, [1, -1]), /negative/);
});

test('training timesteps are uniform over 0..999 and seeded', () => {
  const ts = sampleTrainingTimesteps(schedule, new Rng(3), 20000);
  assert.ok(ts.every((t) => Number.isInteger(t) && t >= 0 && t < 1000));
  assert.ok(ts.includes(0) && ts.includes(999));
  const mean = ts.reduce((a, b) => a + b, 0) / ts.length;
  assert.ok(Math.abs(mean - 499.5) < 8, `mean ${mean}`);
  assert.deepEqual(sampleTrainingTimesteps(schedule, new Rng(3), 5), ts.slice(0, 5));
});
