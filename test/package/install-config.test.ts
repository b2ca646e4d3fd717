// How `npm ci` treats dependency install scripts: onnxruntime-node's (a CUDA download from NuGet on Linux x64) is
// denied in package.json's allowScripts, npm's script policy (npm 11+), and skipped by the .npmrc key the script
// reads (npm 10, which has no policy; npm 11 warns about it, npm 12 drops it); every other install script is
// reviewed; the install script's own switch still works.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

let npm: string | undefined;
try {
  npm = execFileSync('npm', ['--version'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {
  npm = undefined;
}

test('onnxruntime-node\'s install script is denied by allowScripts; build scripts that matter are allowed', () => {
  assert.equal(pkg.allowScripts?.['onnxruntime-node'], false);
  assert.equal(pkg.allowScripts?.['better-sqlite3'], true, 'builds its native module');
});

test('npm 10 has no policy: .npmrc carries the install script\'s own skip key, the one npm sets for it', () => {
  const npmrc = fs.readFileSync(path.join(ROOT, '.npmrc'), 'utf8');
  assert.match(npmrc, /^onnxruntime-node-install=skip$/m);
  const script = fs.readFileSync(path.join(ROOT, 'node_modules', 'onnxruntime-node', 'script', 'install.js'), 'utf8');
  assert.match(script, /onnxruntime-node-install/, 'the script still reads that key');
});

test('every installed dependency with install scripts is reviewed in allowScripts', { skip: !npm && 'no npm here' }, (t) => {
  const r = spawnSync('npm', ['install-scripts', 'ls'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0 && /Unknown command/i.test(r.stdout + r.stderr)) return t.skip(`npm ${npm} has no install-script policy`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /No packages with unreviewed install scripts/, r.stdout);
});

test('the install script\'s own switch: ONNXRUNTIME_NODE_INSTALL=skip exits at once (older npm runs the script)', () => {
  const script = path.join(ROOT, 'node_modules', 'onnxruntime-node', 'script', 'install.js');
  const r = spawnSync(process.execPath, [script], { env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' }, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
});
