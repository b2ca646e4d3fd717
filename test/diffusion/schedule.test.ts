// The noise schedule and timesteps against independent float64 numbers from torch, and scheduler_config.json loading.
// Constants below: `/usr/bin/python3 test/diffusion/torch_reference.py` (keys alphas_cumprod, linear_alphas_cumprod,
// betas, timesteps; torch.linspace(sqrt(0.00085), sqrt(0.012), 1000, dtype=float64)**2, cumprod(1 - betas)).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadSchedulerConfig, NoiseSchedule, parseSchedulerConfig, roundHalfEven, SchedulerConfigError, SD15_SCHEDULER_CONFIG } from '../../src/runtime/diffusion/schedule.js';

const ALPHAS_CUMPROD: Record<number, number> = {
  0: 0.99915, 1: 0.9982960278384514, 20: 0.981314362200552, 250: 0.6737926252333216, 500: 0.2763326838229747,
  981: 0.005775500139495754, 999: 0.004660098513077241,
};
const LINEAR_ALPHAS_CUMPROD: Record<number, number> = { 0: 0.99915, 500: 0.160771599870189, 999: 0.0015789629305514416 };
const BETAS: Record<number, number> = { 0: 0.00085, 1: 0.0008546986554056862, 999: 0.012 };
const TIMESTEPS: Record<string, number[]> = {
  leading_7: [853, 711, 569, 427, 285, 143, 1],
  leading_1: [1],
  trailing_50: Array.from({ length: 50 }, (_, i) => 999 - 20 * i),
  trailing_7: [999, 856, 713, 570, 428, 285, 142],
  trailing_1: [999],
  linspace_50: [999, 979, 958, 938, 917, 897, 877, 856, 836, 816, 795, 775, 754, 734, 714, 693, 673, 652, 632, 612, 591, 571, 550, 530, 510, 489, 469, 449, 428, 408, 387, 367, 347, 326, 306, 285, 265, 245, 224, 204, 183, 163, 143, 122, 102, 82, 61, 41, 20, 0],
  linspace_7: [999, 832, 666, 500, 333, 166, 0],
  linspace_1: [0],
};

const close = (a: number, b: number, rel = 1e-12) => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);

test('SD1.5 scaled_linear betas and alphas_cumprod match torch float64', () => {
  const s = new NoiseSchedule();
  for (const [t, v] of Object.entries(ALPHAS_CUMPROD)) close(s.alphasCumprod[+t], v);
  for (const [t, v] of Object.entries(BETAS)) close(s.betas[+t], v);
  assert.equal(s.finalAlphaCumprod, s.alphasCumprod[0], 'set_alpha_to_one false: the final alpha is ab[0]');
  assert.equal(s.alphaCumprod(-19), s.alphasCumprod[0]);
  assert.equal(new NoiseSchedule({ setAlphaToOne: true }).alphaCumprod(-1), 1);
  const lin = new NoiseSchedule({ betaSchedule: 'linear' });
  for (const [t, v] of Object.entries(LINEAR_ALPHAS_CUMPROD)) close(lin.alphasCumprod[+t], v);
  assert.throws(() => s.alphaCumprod(1000), /timestep 1000/);
});

test('timesteps: leading N=50 is 981, 961, ..., 1; trailing and linspace as diffusers', () => {
  const s = new NoiseSchedule();
  assert.deepEqual(s.timesteps(50), Array.from({ length: 50 }, (_, i) => 981 - 20 * i));
  for (const [key, want] of Object.entries(TIMESTEPS)) {
    const [spacing, n] = key.split('_');
    assert.deepEqual(new NoiseSchedule({ timestepSpacing: spacing as 'leading' }).timesteps(+n), want, key);
  }
  assert.throws(() => s.timesteps(1000), /timestep 1000, outside \[0, 999\]/);
  assert.throws(() => s.timesteps(0), /steps must be an integer/);
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, -0, -2, 2, 3]);
});

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ib-sched-'));
  dirs.push(d);
  return d;
}

// The scheduler/scheduler_config.json of runwayml/stable-diffusion-v1-5.
const SD15_FILE = {
  _class_name: 'PNDMScheduler', _diffusers_version: '0.6.0', beta_end: 0.012, beta_schedule: 'scaled_linear', beta_start: 0.00085,
  num_train_timesteps: 1000, set_alpha_to_one: false, skip_prk_steps: true, steps_offset: 1, trained_betas: null, clip_sample: false,
};

test('loadSchedulerConfig reads a diffusers folder, a scheduler folder or a file, and defaults to SD1.5 without one', () => {
  const dir = tmp();
  fs.mkdirSync(path.join(dir, 'scheduler'));
  fs.writeFileSync(path.join(dir, 'scheduler', 'scheduler_config.json'), JSON.stringify({ ...SD15_FILE, timestep_spacing: 'trailing', steps_offset: 0 }));
  const fromModel = loadSchedulerConfig(dir);
  assert.equal(fromModel.timestepSpacing, 'trailing');
  assert.equal(fromModel.stepsOffset, 0);
  assert.deepEqual(loadSchedulerConfig(path.join(dir, 'scheduler')), fromModel);
  assert.deepEqual(loadSchedulerConfig(path.join(dir, 'scheduler', 'scheduler_config.json')), fromModel);
  assert.deepEqual(loadSchedulerConfig(tmp()), SD15_SCHEDULER_CONFIG, 'no file: SD1.5');
  assert.deepEqual(parseSchedulerConfig(SD15_FILE), SD15_SCHEDULER_CONFIG, 'SD1.5 file (unknown keys ignored, missing keys SD1.5)');
  assert.deepEqual(parseSchedulerConfig({ prediction_type: 'epsilon', beta_schedule: 'linear', beta_start: 0.0001, beta_end: 0.02 }),
    { ...SD15_SCHEDULER_CONFIG, betaSchedule: 'linear', betaStart: 0.0001, betaEnd: 0.02 });
});

test('unsupported scheduler values are refused by name', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ prediction_type: 'v_prediction' }, /prediction_type 'v_prediction' is not supported/],
    [{ prediction_type: 'flow' }, /prediction_type "flow" is not supported \(supported: epsilon\)/],
    [{ beta_schedule: 'squaredcos_cap_v2' }, /beta_schedule "squaredcos_cap_v2" is not supported \(supported: scaled_linear, linear\)/],
    [{ timestep_spacing: 'karras' }, /timestep_spacing "karras" is not supported/],
    [{ clip_sample: true }, /clip_sample true is not supported/],
    [{ thresholding: true }, /thresholding true/],
    [{ trained_betas: [0.1, 0.2] }, /trained_betas is not supported/],
    [{ rescale_betas_zero_snr: true }, /rescale_betas_zero_snr true/],
    [{ num_train_timesteps: '1000' }, /num_train_timesteps must be a non-negative integer/],
    [{ beta_start: 2 }, /beta_start 2 and beta_end 0.012 must lie in \(0, 1\)/],
    [{ set_alpha_to_one: 'no' }, /set_alpha_to_one must be true or false/],
  ];
  for (const [json, re] of cases) {
    assert.throws(() => parseSchedulerConfig(json, 'x/scheduler_config.json'), (e: Error) => e instanceof SchedulerConfigError && re.test(e.message) && e.message.startsWith('x/scheduler_config.json: '), JSON.stringify(json));
  }
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'scheduler_config.json'), '{ not json');
  assert.throws(() => loadSchedulerConfig(dir), /scheduler_config.json: not valid JSON/);
  assert.throws(() => new NoiseSchedule({ predictionType: 'v_prediction' as 'epsilon' }), /predictionType 'v_prediction' is not supported/);
});
