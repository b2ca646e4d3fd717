// `npm run bench -- gpu` at toy sizes on whatever WebGPU adapter there is (lavapipe in CI): it runs every
// measurement on both providers and ends with its JSON line. Times are not asserted.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { webgpuForTests } from '../webgpu-available.js';

test('bench gpu runs at tiny sizes and reports the adapter and every time', { skip: !webgpuForTests() && 'no WebGPU adapter (see test/webgpu-available.ts)', timeout: 300_000 }, () => {
  const root = path.join(import.meta.dirname, '../..');
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'gpu'], {
    cwd: root, env: { ...process.env, BENCH_GPU_SIZE: 'tiny', BENCH_RUNS: '1' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
  const json = JSON.parse(out.trim().split('\n').at(-1)!);
  assert.deepEqual(Object.keys(json), ['adapter', 'train_step_ms', 'sd_forward_ms', 'sd_lora_step_s', 'cpu_train_step_ms', 'cpu_sd_forward_ms']);
  assert.match(json.adapter, /\(.+, (vulkan|d3d12|metal)\)$/);
  for (const [k, v] of Object.entries(json)) if (k !== 'adapter') assert.ok(typeof v === 'number' && v > 0, `${k}: ${v}`);
});
