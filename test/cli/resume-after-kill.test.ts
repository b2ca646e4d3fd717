// DreamBooth survives SIGKILL: a workflow killed mid-training and run again continues from its last checkpoint and
// ends where an uninterrupted run with the same seed ends (the saved LoRA files agree within 1e-6).
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openSafetensors } from '../../src/runtime/engine/safetensors.js';
import { writeTinyCheckpoint } from '../nodes/tiny-checkpoint.js';
import { subjectReferences, SUBJECTS } from '../../src/runtime/world/index.js';
import { encodePng } from '../../src/runtime/engine/image-io.js';
import { imageAt } from '../../src/runtime/engine/image.js';

const BIN = path.join(import.meta.dirname, '../../bin/instructbooth.js');
const STEPS = 200;

const workflow = {
  1: { class_type: 'LoadSubjectImages', inputs: { source: 'subject', resolution: 16 } },
  2: { class_type: 'LoadCheckpoint', inputs: { ckpt_name: 'tiny', device: 'cpu', threads: 1 } },
  3: {
    class_type: 'DreamBoothTrain',
    inputs: { model: ['2', 0], instance_images: ['1', 0], instance_prompt: 'a sks cat', class_prompt: 'a cat', mode: 'lora', steps: STEPS, batch_size: 1, learning_rate: 1e-3, lora_rank: 2, seed: 5, checkpoint_every: 10 },
  },
  4: { class_type: 'SaveLoRA', inputs: { model: ['3', 0], filename_prefix: 'loras/final', format: 'kohya', dtype: 'float32' } },
};

async function workdir(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ib-kill-'));
  for (const f of ['input/subject', 'output', 'temp', 'models']) fs.mkdirSync(path.join(dir, f), { recursive: true });
  writeTinyCheckpoint({ input: path.join(dir, 'input'), output: path.join(dir, 'output'), temp: path.join(dir, 'temp'), models: path.join(dir, 'models') });
  const { images } = subjectReferences(SUBJECTS[1]);
  for (let i = 0; i < images.count; i++) fs.writeFileSync(path.join(dir, 'input/subject', `${i}.png`), await encodePng(imageAt(images, i)));
  fs.writeFileSync(path.join(dir, 'wf.json'), JSON.stringify(workflow));
  return dir;
}

// The folders are the working directory's (no INSTRUCTBOOTH_*_DIR overrides from the environment).
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^INSTRUCTBOOTH_\w+_DIR$/.test(k)));
const run = (cwd: string) => execFileSync(process.execPath, [BIN, 'run', 'wf.json'], { cwd, encoding: 'utf8', env });

function checkpointSteps(dir: string): number[] {
  const root = path.join(dir, 'output', 'training');
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).flatMap((d) => fs.readdirSync(path.join(root, d)).flatMap((f) => /^step-(\d+)\.safetensors$/.exec(f)?.[1] ?? []).map(Number));
}

function loraTensors(dir: string): Map<string, Float32Array> {
  const st = openSafetensors(path.join(dir, 'output', 'loras', 'final_00001_.safetensors'));
  const m = new Map(st.names().map((n) => [n, st.read(n, { as: 'float32' }).data as Float32Array]));
  st.close();
  return m;
}

test('SIGKILL mid-training, run again: it resumes and ends as an uninterrupted run', { timeout: 240_000 }, async () => {
  const killed = await workdir();
  const whole = await workdir();
  try {
    // Kill once a checkpoint past the start exists and before the end.
    const child = spawn(process.execPath, [BIN, 'run', 'wf.json'], { cwd: killed, stdio: 'ignore', env });
    const exited = new Promise((r) => child.on('exit', r));
    while (!checkpointSteps(killed).some((s) => s >= 20 && s < STEPS)) {
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    await exited;
    const at = Math.max(...checkpointSteps(killed));
    assert.ok(at > 0 && at < STEPS, `killed mid-training (checkpoint at step ${at})`);
    assert.ok(!fs.existsSync(path.join(killed, 'output', 'loras')), 'the killed run saved no LoRA');

    const resumedLog = run(killed);
    assert.match(resumedLog, /resumed from the checkpoint at step \d+/);
    run(whole);
    const a = loraTensors(killed), b = loraTensors(whole);
    assert.equal(a.size, b.size);
    let worst = 0;
    for (const [k, t] of a) for (let i = 0; i < t.length; i++) worst = Math.max(worst, Math.abs(t[i] - b.get(k)![i]));
    assert.ok(worst <= 1e-6, `largest difference ${worst}`);
  } finally {
    fs.rmSync(killed, { recursive: true, force: true });
    fs.rmSync(whole, { recursive: true, force: true });
  }
});
