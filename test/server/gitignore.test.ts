// What the server writes into its data folder (the working directory by default: the repository, for `npm start`)
// is ignored by git: the queue database under user/, uploads under input/, outputs and temp files.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { main } from '../../src/cli/commands.js';
import { historyOf, postJson, tempDir, testRegistry, until } from './helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function filesUnder(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const r = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? filesUnder(dir, r) : [r];
  });
}

let git = true;
try {
  execFileSync('git', ['-C', ROOT, 'rev-parse', '--git-dir'], { stdio: 'ignore' });
} catch {
  git = false;
}

test('every file `instructbooth serve` writes in its data folder is git-ignored', { skip: !git && 'no git here' }, async () => {
  const dir = tempDir();
  const out: string[] = [];
  let stop: (() => void) | undefined;
  const io = { stdout: { write: (s: string) => void out.push(s) }, stderr: { write: () => undefined }, onInterrupt: (h: () => void) => (stop = h), cwd: dir, registry: testRegistry() };
  const exit = main(['serve', '--port', '0'], io);
  const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(await until(() => out.find((l) => l.includes('server at')) ?? ''))![1];
  const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#f00' } }).png().toBuffer();
  for (const fields of [{}, { subfolder: 'pasted' }, { type: 'temp' }]) {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'upload.png');
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    assert.equal((await fetch(`${url}/upload/image`, { method: 'POST', body: form })).status, 200);
  }
  const id = (await postJson(`${url}/prompt`, { prompt: { 1: { class_type: 'Train', inputs: { steps: 1 } }, 2: { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'x' } } } })).body.prompt_id;
  await historyOf(url, id);
  const written = filesUnder(dir);
  for (const top of ['user', 'input', 'output', 'temp']) assert.ok(written.some((f) => f.startsWith(`${top}/`)), `${top}/ written: ${written}`);
  stop!();
  assert.equal(await exit, 0);
  const notIgnored = written.filter((f) => {
    try {
      execFileSync('git', ['-C', ROOT, 'check-ignore', '-q', '--no-index', f], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  assert.deepEqual(notIgnored, [], 'add these to .gitignore');
  // The example subjects stay in the repository.
  assert.throws(() => execFileSync('git', ['-C', ROOT, 'check-ignore', '-q', '--no-index', 'input/subjects/new-subject/01.png'], { stdio: 'ignore' }));
});
