// The repository must stand alone: no tracked file may point at documents, references or papers that live beside a
// checkout rather than in it (the project's own are under docs/ and scripts/torch/). The patterns are assembled at
// run time so that this file does not match itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUTSIDE = 'shared';
const PATTERNS = [`${OUTSIDE}/docs`, `${OUTSIDE}/reference`, `${OUTSIDE}/paper`, `../${OUTSIDE}`];
const EXCLUDED = ['package-lock.json'];

function isGitCheckout(dir: string): boolean {
  try {
    return execFileSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() === 'true';
  } catch {
    return false;
  }
}

/** `file:line:text` of every line of a tracked file (as it is in the working tree) that names an outside path. */
function outsideReferences(dir: string): string[] {
  const args = ['grep', '-n', '-F', ...PATTERNS.flatMap((p) => ['-e', p]), '--', '.', ...EXCLUDED.map((f) => `:(exclude)${f}`)];
  const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  // Exit 1: no match.
  assert.ok(r.status === 0 || r.status === 1, `git grep failed (status ${r.status}): ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

const noGit = !isGitCheckout(ROOT) && 'not a git checkout';

test('no tracked file refers to documents outside the repository', { skip: noGit }, () => {
  const hits = outsideReferences(ROOT);
  assert.deepEqual(hits, [], `tracked files mention ${PATTERNS.join(', ')}; point at docs/ or the in-repo file instead:\n${hits.join('\n')}`);
});

test('the check finds each pattern in tracked files, and skips untracked files and package-lock.json', { skip: noGit }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'instructbooth-refs-'));
  try {
    execFileSync('git', ['init', '-q'], { cwd: dir });
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src', 'a.ts'), `// see ${OUTSIDE}/docs/algorithms.md\nconst x = 1;\n// and ${OUTSIDE}/reference/net.py\n`);
    fs.writeFileSync(path.join(dir, 'README.md'), `See \`../${OUTSIDE}/x.md\` and ${OUTSIDE}/paper/p.txt.\nshared memory is fine.\n`);
    fs.writeFileSync(path.join(dir, 'package-lock.json'), `{"resolved": "../${OUTSIDE}/docs"}\n`);
    fs.writeFileSync(path.join(dir, 'notes.md'), `${OUTSIDE}/docs, untracked\n`);
    execFileSync('git', ['add', 'src/a.ts', 'README.md', 'package-lock.json'], { cwd: dir });
    assert.deepEqual(outsideReferences(dir), [
      `README.md:1:See \`../${OUTSIDE}/x.md\` and ${OUTSIDE}/paper/p.txt.`,
      `src/a.ts:1:// see ${OUTSIDE}/docs/algorithms.md`,
      `src/a.ts:3:// and ${OUTSIDE}/reference/net.py`,
    ]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
