// The editor bundles modules from src/runtime/graph (the conversion and the wire types it shares with the server).
// Typechecking web/ cannot catch a Node-only API in them (vite.config.ts brings Node's types into that program), so
// this walks the bundle's imports from web/src/main.ts and checks every file it reaches: no node: or other built-in
// modules, no packages but the editor's own, and no Buffer or process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from './fake-server.js';

const EDITOR_PACKAGES = ['@comfyorg/litegraph', 'uplot'];

/** The code of a file without comments and string contents, so that words in them do not count. */
function codeOf(path: string): string {
  return readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:])\/\/.*$/gm, '$1');
}

/** Specifiers a file imports at run time (import type and export type are erased by the bundler). */
function runtimeImports(code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(/^\s*(import|export)\s+(type\s+)?([^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) if (!m[2]) out.push(m[4]);
  return out;
}

function bundledFiles(entry: string): string[] {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of runtimeImports(codeOf(file))) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      if (existsSync(target)) queue.push(target);
    }
  }
  return [...seen];
}

test("the editor bundles only browser-safe code: no Node modules, Buffer or process in any file it imports", () => {
  const files = bundledFiles(join(REPO_ROOT, 'web', 'src', 'main.ts'));
  const shared = files.filter((f) => !f.startsWith(join(REPO_ROOT, 'web')));
  assert.ok(shared.some((f) => f.endsWith('workflow-to-prompt.ts')), 'the walk reaches the shared conversion');
  const problems: string[] = [];
  for (const file of files) {
    const code = codeOf(file);
    const name = relative(REPO_ROOT, file);
    for (const spec of runtimeImports(code)) {
      if (spec.startsWith('.') || spec.endsWith('.css')) continue;
      const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (spec.startsWith('node:') || builtinModules.includes(pkg)) problems.push(`${name} imports ${spec}`);
      else if (!EDITOR_PACKAGES.includes(pkg)) problems.push(`${name} imports the package ${spec}`);
    }
    if (/\bBuffer\b|\bprocess\./.test(code.replace(/(['"`])(?:\\.|(?!\1).)*\1/g, "''"))) problems.push(`${name} uses Buffer or process`);
  }
  assert.deepEqual(problems, []);
});
