// Both ways to start the server as a process (`instructbooth serve` and `npm start`) stop gracefully on SIGINT and
// SIGTERM (systemd and Docker send SIGTERM): the running job is stored, the process exits 0, and the run command's
// "cancelling" line is not printed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY_POINTS: Record<string, string[]> = {
  'instructbooth serve': [path.join(ROOT, 'bin', 'instructbooth.js'), 'serve'],
  'npm start': ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'src', 'server', 'main.ts')],
};

async function stopWith(args: string[], signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...args, '--port', '0'], { cwd: tempDir(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, signal: sig })));
  const deadline = Date.now() + 90_000;
  while (!/server at (http:\/\/\S+?)\//.test(stdout)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      assert.fail(`the server did not start: ${stdout} ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /server at (http:\/\/\S+?)\//.exec(stdout)![1];
  assert.equal((await fetch(`${url}/api/queue`)).status, 200);
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const end = await exited;
  clearTimeout(timer);
  return { ...end, stdout, stderr };
}

for (const [name, args] of Object.entries(ENTRY_POINTS))
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    test(`${name}: ${signal} stops it gracefully, exit 0, no "cancelling" line`, { timeout: 180_000 }, async () => {
      const r = await stopWith(args, signal);
      assert.deepEqual([r.code, r.signal], [0, null], `exit ${r.code} ${r.signal}; stderr: ${r.stderr}`);
      assert.match(r.stderr, /stopping: the running job is interrupted/);
      assert.doesNotMatch(r.stdout + r.stderr, /cancelling/);
    });
