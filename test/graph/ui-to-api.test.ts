import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  WorkflowFormatError,
  parseUiWorkflow,
  parseWorkflowJson,
  serializeWorkflow,
  type UiWorkflow,
} from '../../src/runtime/graph/workflow-ui.js';
import { promptToUi, uiToPrompt } from '../../src/runtime/graph/ui-to-api.js';
import { validatePrompt } from '../../src/runtime/graph/validate.js';
import { PromptValidationError } from '../../src/runtime/graph/errors.js';
import type { Prompt } from '../../src/runtime/graph/prompt.js';
import { fakeRegistry, folders } from './fake-nodes.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const text = (name: string) => readFileSync(join(dir, name), 'utf8');
const json = (name: string) => JSON.parse(text(name));
const registry = fakeRegistry();

function ui(name: string): UiWorkflow {
  const parsed = parseWorkflowJson(text(name));
  assert.equal(parsed.kind, 'ui');
  return (parsed as { workflow: UiWorkflow }).workflow;
}

const cases: [string, string][] = [
  ['basic.v04.json', 'basic.prompt.json'],
  ['basic.v1.json', 'basic.prompt.json'],
  ['reroute-primitive.v04.json', 'reroute-primitive.prompt.json'],
  ['muted-bypassed.v04.json', 'muted-bypassed.prompt.json'],
  ['converted-widgets.v1.json', 'converted-widgets.prompt.json'],
];

for (const [workflow, expected] of cases)
  test(`uiToPrompt: ${workflow} gives ${expected}`, () => {
    assert.deepEqual(uiToPrompt(ui(workflow), registry, folders), json(expected));
  });

test('versions are told apart and links read as objects', () => {
  const v04 = ui('basic.v04.json');
  const v1 = ui('basic.v1.json');
  assert.equal(v04.version, 0.4);
  assert.equal(v1.version, 1);
  assert.deepEqual(v04.links[0], { id: 1, origin_id: 4, origin_slot: 0, target_id: 3, target_slot: 0, type: 'MODEL' });
  assert.equal(v1.last_node_id, 9);
  assert.equal(v1.last_link_id, 9);
  assert.equal(v1.state?.lastNodeId, 9);
});

test('an API prompt file is recognized as one', () => {
  const parsed = parseWorkflowJson(text('basic.prompt.json'));
  assert.equal(parsed.kind, 'api');
  assert.deepEqual(parsed.kind === 'api' && parsed.prompt, json('basic.prompt.json'));
  // A node without inputs gets an empty inputs object.
  const p = parseWorkflowJson('{"1": {"class_type": "SaveImage"}}');
  assert.deepEqual(p.kind === 'api' && p.prompt, { 1: { class_type: 'SaveImage', inputs: {} } });
});

test('serializeWorkflow writes version 0.4 back unchanged', () => {
  assert.deepEqual(serializeWorkflow(ui('basic.v04.json')), json('basic.v04.json'));
  assert.deepEqual(serializeWorkflow(ui('reroute-primitive.v04.json')), json('reroute-primitive.v04.json'));
  assert.deepEqual(serializeWorkflow(ui('muted-bypassed.v04.json')), json('muted-bypassed.v04.json'));
});

test('version 1 round-trips through 0.4 to an equivalent workflow', () => {
  for (const name of ['basic.v1.json', 'converted-widgets.v1.json']) {
    const a = ui(name);
    const written = serializeWorkflow(a);
    assert.equal(written.version, 0.4);
    assert.ok(Array.isArray(written.links[0]) && written.links[0].length === 6);
    assert.equal(written.last_node_id, a.last_node_id);
    const b = parseUiWorkflow(JSON.parse(JSON.stringify(written)));
    assert.deepEqual(b.nodes, a.nodes);
    assert.deepEqual(b.links, a.links.map(({ parentId: _p, ...l }) => l));
    assert.deepEqual(b.groups, a.groups);
    assert.equal(b.last_link_id, a.last_link_id);
    assert.deepEqual(uiToPrompt(b, registry, folders), uiToPrompt(a, registry, folders));
    // Serializing again is stable.
    assert.deepEqual(serializeWorkflow(b), written);
  }
  // Native reroutes are kept where the 0.4 format keeps them.
  const w = serializeWorkflow(ui('converted-widgets.v1.json'));
  assert.deepEqual(w.extra.reroutes, [{ id: 1, pos: [300, 650], linkIds: [3] }]);
  assert.deepEqual(w.extra.linkExtensions, [{ id: 3, parentId: 1 }]);
  assert.equal(w.extra.frontendVersion, '1.20.0');
});

test('old Float32Array positions {"0": x, "1": y} are read as pairs', () => {
  const node = ui('converted-widgets.v1.json').nodes.find((n) => n.id === 1)!;
  assert.deepEqual(node.pos, [20, 40]);
});

test('widgets_values: a seed without its control value, an upload button value, values keyed by name', () => {
  const base = json('basic.v04.json');
  const ks = base.nodes.find((n: { type: string }) => n.type === 'KSampler');
  const run = () => uiToPrompt(parseUiWorkflow(base), registry, folders)['3'].inputs;
  ks.widgets_values = [7, 'increment', 12, 3.5, 'ddim', 'karras', 0.5];
  assert.deepEqual([run().seed, run().steps, run().cfg, run().sampler_name, run().denoise], [7, 12, 3.5, 'ddim', 0.5]);
  ks.widgets_values = [7, 12, 3.5, 'ddim', 'karras', 0.5];
  assert.deepEqual([run().seed, run().steps, run().denoise], [7, 12, 0.5]);
  ks.widgets_values = { seed: 9, steps: 4, cfg: 1, sampler_name: 'euler', scheduler: 'normal', denoise: 0.25 };
  assert.deepEqual([run().seed, run().steps, run().denoise], [9, 4, 0.25]);
  // Too few values: the rest are the widgets' defaults.
  ks.widgets_values = [11];
  assert.deepEqual([run().seed, run().steps, run().cfg, run().sampler_name, run().denoise], [11, 20, 8, 'euler', 1]);
});

test('a converted widget linked to a muted node loses its value, as in the editor', () => {
  const base = json('basic.v04.json');
  base.nodes.push({
    id: 20, type: 'StringConcat', pos: [0, 0], size: [100, 100], flags: {}, order: 7, mode: 2,
    outputs: [{ name: 'STRING', type: 'STRING', links: [30] }], properties: {}, widgets_values: ['a', 'b', ' '],
  });
  const n6 = base.nodes.find((n: { id: number }) => n.id === 6);
  n6.inputs.push({ name: 'text', type: 'STRING', link: 30, widget: { name: 'text' } });
  base.links.push([30, 20, 0, 6, 1, 'STRING']);
  const p = uiToPrompt(parseUiWorkflow(base), registry, folders);
  assert.equal('text' in p['6'].inputs, false);
  assert.equal(p['20'], undefined);
});

test('reroute loops and bypass loops do not hang', () => {
  const w = parseUiWorkflow({
    nodes: [
      { id: 1, type: 'Reroute', inputs: [{ name: '', type: '*', link: 2 }], outputs: [{ name: '', type: '*', links: [1] }] },
      { id: 2, type: 'Reroute', inputs: [{ name: '', type: '*', link: 1 }], outputs: [{ name: '', type: '*', links: [2, 3] }] },
      { id: 3, type: 'ImageInvert', mode: 4, inputs: [{ name: 'image', type: 'IMAGE', link: 4 }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [4, 5] }] },
      { id: 4, type: 'SaveImage', inputs: [{ name: 'images', type: 'IMAGE', link: 5 }], widgets_values: ['x'] },
      { id: 5, type: 'ShowAny', inputs: [{ name: 'value', type: '*', link: 3 }] },
    ],
    links: [[1, 1, 0, 2, 0, '*'], [2, 2, 0, 1, 0, '*'], [3, 2, 0, 5, 0, '*'], [4, 3, 0, 3, 0, 'IMAGE'], [5, 3, 0, 4, 0, 'IMAGE']],
  });
  const p = uiToPrompt(w, registry, folders);
  assert.deepEqual(p['4'].inputs, { filename_prefix: 'x' });
  assert.deepEqual(p['5'].inputs, {});
});

test('expected prompts validate; a bad branch leaves the good output runnable', () => {
  for (const name of ['basic.prompt.json', 'reroute-primitive.prompt.json']) {
    const r = validatePrompt(json(name), registry, folders);
    assert.deepEqual(r.outputs, ['9']);
    assert.deepEqual(r.nodeErrors, {});
    assert.deepEqual(r.prompt, json(name));
  }
  // muted-bypassed: the two ShowAny nodes lost their input; SaveImage 9 still runs.
  const r = validatePrompt(json('muted-bypassed.prompt.json'), registry, folders);
  assert.deepEqual(r.outputs, ['9']);
  assert.deepEqual(Object.keys(r.nodeErrors).sort(), ['12', '15']);
  assert.equal(r.nodeErrors['12'].errors[0].type, 'required_input_missing');
  assert.deepEqual(r.nodeErrors['12'].dependent_outputs, ['12']);
  // converted-widgets: the unknown node type is reported by validation, by id and type.
  assert.throws(
    () => validatePrompt(json('converted-widgets.prompt.json'), registry, folders),
    (e: unknown) =>
      e instanceof PromptValidationError && e.error.type === 'invalid_prompt' && e.error.message.includes('FancyUpscale') && e.error.details.includes('#7'),
  );
});

test('promptToUi gives an editable workflow that converts back to the same prompt', () => {
  for (const name of ['basic.prompt.json', 'reroute-primitive.prompt.json', 'converted-widgets.prompt.json', 'muted-bypassed.prompt.json']) {
    const prompt: Prompt = json(name);
    const w = promptToUi(prompt, registry);
    const written = JSON.parse(JSON.stringify(serializeWorkflow(w)));
    assert.equal(written.version, 0.4);
    const back = uiToPrompt(parseUiWorkflow(written), registry, folders);
    assert.deepEqual(back, prompt, name);
  }
  const w = promptToUi(json('basic.prompt.json'), registry);
  const x = (id: number) => w.nodes.find((n) => n.id === id)!.pos[0];
  // Columns by depth: loader left of the text encoders, left of the sampler, left of decode, left of save.
  assert.ok(x(4) < x(6) && x(6) < x(3) && x(3) < x(8) && x(8) < x(9));
  assert.equal(x(6), x(7));
  assert.deepEqual(w.nodes.find((n) => n.id === 3)!.widgets_values, [156680208700286, 'fixed', 20, 8, 'euler', 'normal', 1]);
  assert.equal(w.nodes.find((n) => n.id === 6)!.title, 'Positive Prompt');
  assert.equal(w.nodes.find((n) => n.id === 7)!.title, undefined);
});

test('promptToUi renumbers non-numeric ids and survives cycles and dangling links', () => {
  const prompt: Prompt = {
    'a:1': { class_type: 'ImageInvert', inputs: { image: ['b', 0] } },
    b: { class_type: 'ImageInvert', inputs: { image: ['a:1', 0] } },
    '7': { class_type: 'SaveImage', inputs: { images: ['b', 0], filename_prefix: 'x' } },
    '8': { class_type: 'SaveImage', inputs: { images: ['404', 0] } },
  };
  const w = promptToUi(prompt, registry);
  // Integer keys come first in a JS object: 7, 8 keep theirs, then 'a:1' -> 9, 'b' -> 10.
  assert.deepEqual(w.nodes.map((n) => n.id), [7, 8, 9, 10]);
  assert.equal(w.links.length, 3);
  const back = uiToPrompt(w, registry, folders);
  assert.deepEqual(back['7'].inputs.images, ['10', 0]);
  assert.deepEqual(back['9'].inputs.image, ['10', 0]);
  assert.deepEqual(back['10'].inputs.image, ['9', 0]);
  assert.equal('images' in back['8'].inputs, false);
});

test('malformed files give WorkflowFormatError with the path of the problem', () => {
  const bad = (t: string, path: string, re?: RegExp) =>
    assert.throws(
      () => parseWorkflowJson(t),
      (e: unknown) => e instanceof WorkflowFormatError && e.path === path && (!re || re.test(e.message)),
      t.slice(0, 60),
    );
  bad('{"nodes": [', '', /not valid JSON/);
  bad('42', '', /expected a JSON object/);
  bad('[1, 2]', '', /expected a JSON object/);
  bad('{"hello": "world"}', '', /not a ComfyUI workflow/);
  bad('{"nodes": {}}', 'nodes', /array/);
  const w = json('basic.v04.json');
  w.nodes[3].inputs = [{ name: 'x', type: 'INT', link: null }, { name: 'clip', type: 'CLIP', link: 'three' }];
  bad(JSON.stringify(w), 'nodes[3].inputs[1].link', /link id/);
  const w2 = json('basic.v04.json');
  w2.links[2] = [3, 4, 1, 6];
  bad(JSON.stringify(w2), 'links[2]', /length 4/);
  const w3 = json('basic.v04.json');
  w3.nodes[1].id = 4;
  bad(JSON.stringify(w3), 'nodes[1].id', /duplicate node id 4/);
  const w4 = json('basic.v1.json');
  w4.links[0].origin_slot = 'zero';
  bad(JSON.stringify(w4), 'links[0].origin_slot', /slot/);
  const w5 = json('basic.v04.json');
  w5.nodes[0].type = 7;
  bad(JSON.stringify(w5), 'nodes[0].type');
  const w6 = json('basic.v04.json');
  w6.nodes[2].widgets_values = 'abc';
  bad(JSON.stringify(w6), 'nodes[2].widgets_values');
  bad('{"3": {"class_type": "KSampler", "inputs": []}, "4": {"class_type": "X"}}', '["3"].inputs', /object/);
  bad('{"3": {"class_type": 5}}', '["3"].class_type');
});
