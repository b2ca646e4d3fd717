// The CLI driven in process (argv and streams passed in), plus one real `bin/instructbooth.js` run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { EXIT, main } from '../../src/cli/commands.js';
import { createRegistry } from '../../src/nodes/index.js';
import { defineNode } from '../../src/runtime/graph/node-api.js';
import { NodeRegistry } from '../../src/runtime/graph/registry.js';

function fakeIo(cwd: string, registry?: NodeRegistry) {
  const out: string[] = [];
  const err: string[] = [];
  let interrupt: (() => void) | undefined;
  return {
    io: { stdout: { write: (s: string) => void out.push(s) }, stderr: { write: (s: string) => void err.push(s) }, onInterrupt: (h: () => void) => (interrupt = h), cwd, registry },
    out: () => out.join(''),
    err: () => err.join(''),
    interrupt: () => interrupt?.(),
  };
}

function workdir(prompt: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ib-cli-'));
  fs.writeFileSync(path.join(dir, 'wf.json'), JSON.stringify(prompt));
  return dir;
}

const templateToFile = {
  1: { class_type: 'PromptTemplate', inputs: { identifier: 'sks', class_noun: 'cat', description: '', activities: 'cooking', identifier_ratio: 0.5 }, _meta: { title: 'Prompts' } },
  2: { class_type: 'PrimitiveStringMultiline', inputs: { value: ['1', 1] } },
};

test('run: exit 0, --set by title and by id, JSON lines', async () => {
  const dir = workdir({ ...templateToFile });
  const t = fakeIo(dir);
  // No output node in that prompt: invalid.
  assert.equal(await main(['run', 'wf.json'], t.io), EXIT.invalid);
  assert.match(t.err(), /no output/i);

  const reg = createRegistry();
  let seen = '';
  reg.register(defineNode({
    type: 'Show', displayName: 'Show', category: 'test', description: 'records a string', outputNode: true,
    inputs: { text: { type: 'STRING', forceInput: true } }, outputs: [],
    run: async (inputs) => { seen = String(inputs.text); return { outputs: [], ui: { text: [seen] } }; },
  }));
  fs.writeFileSync(path.join(dir, 'wf.json'), JSON.stringify({ ...templateToFile, 3: { class_type: 'Show', inputs: { text: ['1', 1] } } }));
  const ok = fakeIo(dir, reg);
  assert.equal(await main(['run', 'wf.json', '--set', 'Prompts.class_noun=dog', '--json'], ok.io), EXIT.ok);
  assert.equal(seen, 'a sks dog');
  const events = ok.out().trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(events[0].type, 'execution_start');
  assert.equal(events.at(-1).type, 'execution_success');
  assert.equal(await main(['run', 'wf.json', '--set', '1.identifier="zwx"'], fakeIo(dir, reg).io), EXIT.ok);
  assert.equal(seen, 'a zwx cat');

  const bad = fakeIo(dir, reg);
  assert.equal(await main(['run', 'wf.json', '--set', 'Nobody.x=1'], bad.io), EXIT.usage);
  assert.match(bad.err(), /no node has id or title 'Nobody'/);
  const badVal = fakeIo(dir, reg);
  assert.equal(await main(['run', 'wf.json', '--set', 'Prompts.identifier_ratio=7'], badVal.io), EXIT.invalid);
  assert.match(badVal.err(), /identifier_ratio/);
});

test('run: a failing node exits non-zero naming the node; Ctrl-C cancels and says where', async () => {
  const reg = new NodeRegistry();
  reg.register(defineNode({
    type: 'Boom', displayName: 'Boom', category: 'test', description: 'fails', outputNode: true, inputs: {}, outputs: [],
    run: async () => { throw new Error('checkpoint is corrupt'); },
  }));
  reg.register(defineNode({
    type: 'Slow', displayName: 'Slow', category: 'test', description: 'loops', outputNode: true, inputs: {}, outputs: [],
    run: async (_i, ctx) => {
      for (let s = 0; s < 1000; s++) {
        ctx.checkInterrupted();
        ctx.progress(s, 1000);
        await new Promise((r) => setTimeout(r, 5));
      }
      return { outputs: [] };
    },
  }));
  const dir = workdir({ 7: { class_type: 'Boom', inputs: {}, _meta: { title: 'Loader' } } });
  const t = fakeIo(dir, reg);
  assert.equal(await main(['run', 'wf.json'], t.io), EXIT.failed);
  assert.match(t.err(), /error in Loader \(node 7, Boom\): checkpoint is corrupt/);

  fs.writeFileSync(path.join(dir, 'wf.json'), JSON.stringify({ 4: { class_type: 'Slow', inputs: {} } }));
  const s = fakeIo(dir, reg);
  const running = main(['run', 'wf.json'], s.io);
  setTimeout(() => s.interrupt(), 50);
  assert.equal(await running, EXIT.interrupted);
  assert.match(s.err(), /interrupted at Slow \(node 4\)/);
});

test('validate, nodes, usage errors', async () => {
  const dir = workdir({ 1: { class_type: 'NoSuchNode', inputs: {} } });
  const t = fakeIo(dir);
  assert.equal(await main(['validate', 'wf.json', '--json'], t.io), EXIT.invalid);
  const body = JSON.parse(t.out());
  assert.equal(body.ok, false);
  assert.equal(body.error.type, 'invalid_prompt');
  assert.match(body.error.message, /NoSuchNode/);
  const n = fakeIo(dir);
  assert.equal(await main(['nodes', '--json'], n.io), EXIT.ok);
  const info = JSON.parse(n.out());
  assert.deepEqual(info.SaveImage.input_order.required, ['images', 'filename_prefix']);
  assert.equal(info.SaveImage.output_node, true);
  const u = fakeIo(dir);
  assert.equal(await main(['frobnicate'], u.io), EXIT.usage);
  assert.equal(await main(['run'], u.io), EXIT.usage);
  assert.equal(await main(['run', 'missing.json'], u.io), EXIT.usage);
  assert.match(u.err(), /cannot read workflow file .*missing.json/);
  fs.writeFileSync(path.join(dir, 'broken.json'), '{"1": {"class_type": ');
  assert.equal(await main(['validate', 'broken.json'], u.io), EXIT.invalid);
});

test('the installed bin runs a workflow in a subprocess', () => {
  const dir = workdir({ ...templateToFile });
  const bin = path.join(import.meta.dirname, '../../bin/instructbooth.js');
  const out = execFileSync(process.execPath, [bin, 'nodes'], { cwd: dir, encoding: 'utf8' });
  assert.match(out, /PromptTemplate/);
  let code = 0;
  try {
    execFileSync(process.execPath, [bin, 'validate', 'wf.json'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    code = (e as { status: number }).status;
  }
  assert.equal(code, EXIT.invalid, 'a prompt without output nodes is invalid');
});

test('--set and PNG text: names that are Object.prototype members are keys like any other', async () => {
  const { applySet, UsageError } = await import('../../src/cli/load-workflow.js');
  const { pngInfoText } = await import('../../src/nodes/common/save-images.js');
  const prompt = JSON.parse('{"__proto__": {"class_type": "X", "inputs": {}}, "1": {"class_type": "Y", "inputs": {}}}');
  applySet(prompt, '__proto__.steps=5');
  assert.equal(Object.getOwnPropertyDescriptor(prompt, '__proto__')?.value.inputs.steps, 5);
  applySet(prompt, '1.__proto__=7');
  assert.deepEqual(Object.keys(prompt['1'].inputs), ['__proto__']);
  assert.equal(Object.getOwnPropertyDescriptor(prompt['1'].inputs, '__proto__')?.value, 7);
  // 'constructor' is no node of this prompt, though every object inherits one.
  assert.throws(() => applySet(prompt, 'constructor.x=1'), (e: unknown) => e instanceof UsageError && /no node has id or title 'constructor'/.test((e as Error).message));
  const text = pngInfoText({ prompt: {}, extraPngInfo: JSON.parse('{"__proto__": {"a": 1}, "workflow": {}}') });
  assert.deepEqual(Object.keys(text), ['prompt', '__proto__', 'workflow']);
});
