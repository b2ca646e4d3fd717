import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PromptValidationError, type InputError } from '../../src/runtime/graph/errors.js';
import type { Prompt } from '../../src/runtime/graph/prompt.js';
import { validatePrompt } from '../../src/runtime/graph/validate.js';
import { typesMatch } from '../../src/runtime/graph/validate-inputs.js';
import { MAX_PROMPT_NODES } from '../../src/runtime/graph/validate-prompt-nodes.js';
import { MAX_DEPENDENT_OUTPUTS, MAX_REPORTED_NODE_ERRORS } from '../../src/runtime/graph/validate-report.js';
import { validationWork } from '../../src/runtime/graph/validate-walk.js';
import { fakeRegistry, folders } from './fake-nodes.js';

const registry = fakeRegistry();
const basic = (): Prompt => JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'basic.prompt.json'), 'utf8'));

function rejects(prompt: unknown): PromptValidationError {
  try {
    validatePrompt(prompt, registry, folders);
  } catch (e) {
    assert.ok(e instanceof PromptValidationError, `expected a PromptValidationError, got ${e}`);
    assert.ok(e.message.length > 0);
    JSON.stringify(e.toJSON());
    return e;
  }
  assert.fail('the prompt validated');
}

/** The single input error of a prompt that fails validation at node `id`. */
function inputError(prompt: unknown, id: string): InputError {
  const e = rejects(prompt);
  assert.equal(e.error.type, 'prompt_outputs_failed_validation');
  assert.equal(e.error.message, 'Prompt outputs failed validation');
  const entry = e.nodeErrors[id];
  assert.ok(entry, `no errors for node ${id}: ${JSON.stringify(e.nodeErrors)}`);
  assert.equal(entry.errors.length, 1, JSON.stringify(entry.errors));
  assert.equal(entry.class_type, (prompt as Prompt)[id].class_type);
  return entry.errors[0];
}

function expectInputError(prompt: Prompt, id: string, type: string, input: string, ...mentions: string[]): InputError {
  const err = inputError(prompt, id);
  assert.equal(err.type, type);
  assert.equal(err.extra_info.input_name, input);
  for (const s of [`node ${id}`, prompt[id].class_type, `'${input}'`, ...mentions]) assert.ok(err.message.includes(s), `"${err.message}" lacks ${s}`);
  return err;
}

test('a valid prompt returns its outputs and the prompt', () => {
  const r = validatePrompt(basic(), registry, folders);
  assert.deepEqual(r.outputs, ['9']);
  assert.deepEqual(r.prompt, basic());
  assert.deepEqual(r.nodeErrors, {});
});

test('invalid_prompt: not an object, a node not an object, class_type missing or unknown, inputs not an object', () => {
  for (const p of [null, [], 'x', 5, true]) {
    const e = rejects(p);
    assert.equal(e.error.type, 'invalid_prompt');
  }
  const p1 = basic() as Record<string, unknown>;
  p1['5'] = 'node';
  let e = rejects(p1);
  assert.equal(e.error.type, 'invalid_prompt');
  assert.match(e.error.message, /#5/);

  const p2 = basic() as unknown as Record<string, Record<string, unknown>>;
  delete p2['8'].class_type;
  e = rejects(p2);
  assert.equal(e.error.type, 'invalid_prompt');
  assert.equal(e.error.message, 'Cannot execute because a node is missing the class_type property.');
  assert.equal(e.error.details, "Node ID '#8'");

  const p3 = basic();
  p3['8'].class_type = 'VAEDecodeTiled';
  e = rejects(p3);
  assert.equal(e.error.type, 'invalid_prompt');
  assert.equal(e.error.message, 'Cannot execute because node VAEDecodeTiled does not exist.');
  assert.equal(e.error.details, "Node ID '#8'");
  assert.deepEqual(e.error.extra_info, { node_id: '8', class_type: 'VAEDecodeTiled' });

  const p4 = basic() as unknown as Record<string, Record<string, unknown>>;
  p4['8'].inputs = ['3', 0];
  e = rejects(p4);
  assert.equal(e.error.type, 'invalid_prompt');
  assert.match(e.error.message, /inputs of node #8 \(VAEDecode\)/);
});

test('prompt_no_outputs', () => {
  const p = basic();
  delete p['9'];
  const e = rejects(p);
  assert.equal(e.error.type, 'prompt_no_outputs');
  assert.equal(e.error.message, 'Prompt has no outputs');
  assert.match(e.error.details, /SaveImage/);
  assert.equal(rejects({}).error.type, 'prompt_no_outputs');
});

test('required_input_missing', () => {
  const p = basic();
  delete p['3'].inputs.model;
  expectInputError(p, '3', 'required_input_missing', 'model', 'MODEL');
  const q = basic();
  q['3'].inputs.steps = null;
  const err = expectInputError(q, '3', 'required_input_missing', 'steps', 'integer between 1 and 10000');
  assert.match(err.details, /null/);
});

test('bad_linked_input: malformed link, missing node, missing slot', () => {
  const cases: [unknown, string][] = [
    [['4'], 'length 1'],
    [['4', 0, 1], 'length 3'],
    [['99', 0], 'node 99, which is not in the prompt'],
    [['4', 3], 'output slot 3 of node 4 (CheckpointLoaderSimple), which has only 3 output(s)'],
    [['4', -1], 'slot -1'],
    [['4', 0.5], 'slot 0.5'],
    [[{}, 0], 'node id {}'],
  ];
  for (const [link, mention] of cases) {
    const p = basic();
    p['3'].inputs.model = link;
    const err = expectInputError(p, '3', 'bad_linked_input', 'model', mention);
    assert.deepEqual(err.extra_info.received_value, link);
  }
  const p = basic();
  p['3'].inputs.model = ['9', 0];
  expectInputError(p, '3', 'bad_linked_input', 'model', 'SaveImage', 'no outputs');
});

test('return_type_mismatch; * matches anything; COMBO accepts STRING and COMBO outputs', () => {
  const p = basic();
  p['3'].inputs.model = ['4', 2];
  const err = expectInputError(p, '3', 'return_type_mismatch', 'model', 'expects MODEL', 'is VAE');
  assert.equal(err.details, 'model, received_type(VAE) mismatch input_type(MODEL)');
  assert.equal(err.extra_info.received_type, 'VAE');
  assert.deepEqual(err.extra_info.linked_node, ['4', 2]);

  const q = basic();
  q['10'] = { class_type: 'StringConcat', inputs: { a: 'eu', b: 'ler', sep: '' } };
  q['3'].inputs.sampler_name = ['10', 0];
  q['11'] = { class_type: 'ShowAny', inputs: { value: ['4', 2] } };
  assert.deepEqual(validatePrompt(q, registry, folders).outputs, ['9', '11']);

  assert.equal(typesMatch('IMAGE', 'IMAGE,MASK'), true);
  assert.equal(typesMatch('LATENT', 'IMAGE,MASK'), false);
  assert.equal(typesMatch('*', 'MODEL'), true);
  assert.equal(typesMatch('COMBO', 'COMBO'), true);
  assert.equal(typesMatch('STRING', 'COMBO'), true);
  assert.equal(typesMatch('INT', 'COMBO'), false);
});

test('invalid_input_type: wrong literal types, literals on link-only inputs', () => {
  const cases: [string, string, unknown, string][] = [
    ['3', 'steps', 'abc', 'an integer between 1 and 10000'],
    ['3', 'steps', 2.5, 'an integer'],
    ['3', 'steps', '2.5', 'an integer'],
    ['3', 'steps', true, 'an integer'],
    ['3', 'cfg', 'x', 'a number between 0 and 100'],
    ['3', 'cfg', {}, 'a number'],
    ['6', 'text', { a: 1 }, 'a string'],
    ['6', 'text', false, 'a string'],
    ['3', 'sampler_name', { x: 1 }, "one of 'euler'"],
    ['3', 'model', 'sd15', 'link from a MODEL output'],
    ['3', 'model', 5, 'link from a MODEL output'],
    ['9', 'images', { __value__: [1, 2] }, 'link from an IMAGE output'],
  ];
  for (const [id, input, value, mention] of cases) {
    const p = basic();
    p[id].inputs[input] = value;
    const err = expectInputError(p, id, 'invalid_input_type', input, mention);
    assert.deepEqual(err.extra_info.received_value, value);
  }
  const p = basic();
  p['10'] = { class_type: 'ImageInvert', inputs: { image: ['8', 0], enabled: 'true' } };
  p['9'].inputs.images = ['10', 0];
  expectInputError(p, '10', 'invalid_input_type', 'enabled', 'true or false');
});

test('numeric strings become numbers; numbers for STRING become strings; links get string ids', () => {
  const p = basic() as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
  p['3'].inputs.steps = '25';
  p['3'].inputs.cfg = ' 7.5 ';
  p['3'].inputs.seed = '123';
  p['6'].inputs.text = 42;
  p['6'].inputs.clip = [4, 1];
  p['7'].inputs.text = { __value__: 'wrapped' };
  const r = validatePrompt(p, registry, folders);
  assert.equal(r.prompt['3'].inputs.steps, 25);
  assert.equal(r.prompt['3'].inputs.cfg, 7.5);
  assert.equal(r.prompt['3'].inputs.seed, 123);
  assert.equal(r.prompt['6'].inputs.text, '42');
  assert.deepEqual(r.prompt['6'].inputs.clip, ['4', 1]);
  assert.equal(r.prompt['7'].inputs.text, 'wrapped');
  // The caller's prompt is not changed.
  assert.equal(p['3'].inputs.steps, '25');
});

test('missing optional widgets get defaults; undeclared inputs are dropped', () => {
  const p = basic();
  p['9'].inputs.images = ['10', 0];
  p['10'] = { class_type: 'ImageInvert', inputs: { image: ['8', 0], bogus: ['nowhere', 0] } };
  const r = validatePrompt(p, registry, folders);
  assert.deepEqual(r.prompt['10'].inputs, { image: ['8', 0], enabled: true, strength: 0.5 });
});

test('value_smaller_than_min, value_bigger_than_max', () => {
  let p = basic();
  p['3'].inputs.steps = 0;
  let err = expectInputError(p, '3', 'value_smaller_than_min', 'steps', 'Value 0 smaller than min of 1');
  assert.equal(err.extra_info.received_value, 0);
  p = basic();
  p['3'].inputs.denoise = 1.5;
  err = expectInputError(p, '3', 'value_bigger_than_max', 'denoise', 'Value 1.5 bigger than max of 1');
  assert.match(err.details, /1\.5/);
  p = basic();
  p['5'].inputs.width = '99999';
  expectInputError(p, '5', 'value_bigger_than_max', 'width', 'max of 16384');
  p = basic();
  p['3'].inputs.seed = 1e30;
  expectInputError(p, '3', 'value_bigger_than_max', 'seed');
});

test('value_not_in_list, for fixed choices and choices computed from folders', () => {
  let p = basic();
  p['3'].inputs.sampler_name = 'euler_a';
  const err = expectInputError(p, '3', 'value_not_in_list', 'sampler_name', 'euler_a', "'dpmpp_2m'");
  assert.equal(err.details, "sampler_name: 'euler_a' not in ['euler', 'euler_ancestral', 'dpmpp_2m', 'ddim']");
  p = basic();
  p['4'].inputs.ckpt_name = 'sdxl.safetensors';
  expectInputError(p, '4', 'value_not_in_list', 'ckpt_name', 'sdxl.safetensors');
  p = { 1: { class_type: 'LoadImage', inputs: { image: 'dog.png' } }, 2: { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'x' } } };
  expectInputError(p, '1', 'value_not_in_list', 'image', 'dog.png', "'cat.png'");
  p['1'].inputs.image = 'cat.png';
  assert.deepEqual(validatePrompt(p, registry, folders).outputs, ['2']);
});

test('custom_validation_failed and exception_during_validation', () => {
  const p = basic();
  p['9'].inputs.images = ['10', 0];
  p['10'] = { class_type: 'ResizeCheck', inputs: { image: ['8', 0], width: 100, height: 64 } };
  const err = inputError(p, '10');
  assert.equal(err.type, 'custom_validation_failed');
  assert.match(err.message, /node 10 \(ResizeCheck\).*multiples of 8, got 100x64/);
  p['10'].inputs.width = 96;
  assert.deepEqual(validatePrompt(p, registry, folders).outputs, ['9']);

  const q = { 1: { class_type: 'ThrowingValidate', inputs: { x: 1 } }, 2: { class_type: 'ShowAny', inputs: { value: ['1', 0] } } };
  const ex = inputError(q, '1');
  assert.equal(ex.type, 'exception_during_validation');
  assert.match(ex.message, /node 1 \(ThrowingValidate\).*boom/);
});

test('dependency_cycle names the nodes on the cycle', () => {
  const p = basic();
  p['9'].inputs.images = ['10', 0];
  p['10'] = { class_type: 'ImageInvert', inputs: { image: ['11', 0] } };
  p['11'] = { class_type: 'ImageInvert', inputs: { image: ['12', 0] } };
  p['12'] = { class_type: 'ImageInvert', inputs: { image: ['10', 0] } };
  const e = rejects(p);
  assert.equal(e.error.type, 'prompt_outputs_failed_validation');
  assert.deepEqual(Object.keys(e.nodeErrors).sort(), ['10', '11', '12']);
  const err = e.nodeErrors['10'].errors[0];
  assert.equal(err.type, 'dependency_cycle');
  assert.equal(err.extra_info.input_name, 'image');
  assert.match(err.message, /node 10 \(ImageInvert\) input 'image'/);
  // Data flows 10 -> 12 -> 11 -> 10.
  assert.match(err.message, /10 -> 12 -> 11 -> 10/);
  assert.deepEqual(e.nodeErrors['10'].dependent_outputs, ['9']);

  const self = basic();
  self['9'].inputs.images = ['10', 0];
  self['10'] = { class_type: 'ImageInvert', inputs: { image: ['10', 0] } };
  const s = inputError(self, '10');
  assert.equal(s.type, 'dependency_cycle');
  assert.match(s.message, /10 -> 10/);
});

test('only nodes some output needs are validated', () => {
  const p = basic();
  p['20'] = { class_type: 'EmptyLatentImage', inputs: { width: -5, height: 'tall' } };
  p['21'] = { class_type: 'ImageInvert', inputs: { image: ['21', 0] } };
  const r = validatePrompt(p, registry, folders);
  assert.deepEqual(r.outputs, ['9']);
  assert.deepEqual(r.prompt['20'].inputs, { width: -5, height: 'tall' });
});

test('dependent_outputs lists every output a bad node breaks; good outputs still run', () => {
  const p = basic();
  p['3'].inputs.steps = -1;
  p['10'] = { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'second' } };
  p['11'] = { class_type: 'ShowAny', inputs: { value: ['4', 0] } };
  const r = validatePrompt(p, registry, folders);
  assert.deepEqual(r.outputs, ['11']);
  assert.deepEqual(r.nodeErrors['3'].dependent_outputs, ['9', '10']);
  assert.equal(r.nodeErrors['3'].errors[0].type, 'value_smaller_than_min');
  delete p['11'];
  const e = rejects(p);
  assert.deepEqual(e.nodeErrors['3'].dependent_outputs, ['9', '10']);
  assert.deepEqual(Object.keys(e.nodeErrors), ['3']);
  const body = e.toJSON();
  assert.equal(body.error.type, 'prompt_outputs_failed_validation');
  assert.equal(body.node_errors['3'].class_type, 'KSampler');
  // Readable: one line per problem naming the node and input.
  assert.match(e.message, /node 3 \(KSampler\) input 'steps'/);
});

test('several errors on one node are all reported', () => {
  const p = basic();
  p['3'].inputs.steps = 0;
  p['3'].inputs.cfg = 'hot';
  delete p['3'].inputs.positive;
  p['3'].inputs.model = ['4', 1];
  const e = rejects(p);
  assert.deepEqual(e.nodeErrors['3'].errors.map((x) => x.type).sort(), [
    'invalid_input_type',
    'required_input_missing',
    'return_type_mismatch',
    'value_smaller_than_min',
  ]);
});

test('targets restricts which outputs are validated (partial execution)', () => {
  const p = basic();
  p['10'] = { class_type: 'ShowAny', inputs: { value: ['4', 0] } };
  p['3'].inputs.steps = 0;
  assert.deepEqual(validatePrompt(p, registry, folders, { targets: ['10'] }).outputs, ['10']);
  assert.throws(() => validatePrompt(p, registry, folders, { targets: ['9'] }), PromptValidationError);
  assert.throws(
    () => validatePrompt(p, registry, folders, { targets: ['4'] }),
    (e: unknown) => e instanceof PromptValidationError && e.error.type === 'prompt_no_outputs',
  );
});

test('node ids that are Object.prototype names are not mistaken for nodes', () => {
  const p = basic();
  p['3'].inputs.model = ['constructor', 0];
  expectInputError(p, '3', 'bad_linked_input', 'model', 'not in the prompt');
  const q = JSON.parse('{"__proto__": {"class_type": "SaveImage", "inputs": {"images": ["toString", 0]}}}');
  const e = rejects(q);
  assert.equal(e.nodeErrors['__proto__'].errors[0].type, 'bad_linked_input');
});

/** A chain LoadImage -> ImageInvert x (k-1), each chain node read by its own SaveImage: 2k nodes. */
function chainPrompt(k: number, opts: { badRoot?: boolean; badChain?: boolean } = {}): Prompt {
  const p: Prompt = { c0: { class_type: 'LoadImage', inputs: { image: opts.badRoot ? 'missing.png' : 'cat.png' } } };
  for (let i = 1; i < k; i++) p[`c${i}`] = { class_type: 'ImageInvert', inputs: { image: [`c${i - 1}`, 0], ...(opts.badChain ? { strength: 5 } : {}) } };
  for (let i = 0; i < k; i++) p[`o${i}`] = { class_type: 'SaveImage', inputs: { images: [`c${i}`, 0], filename_prefix: 'x' } };
  return p;
}

test('validation walks each node a bounded number of times: a chain read by every output is linear, not quadratic', () => {
  const k = 3000; // 6000 nodes
  for (const opts of [{}, { badRoot: true }, { badRoot: true, badChain: true }]) {
    validationWork.nodeVisits = 0;
    try {
      validatePrompt(chainPrompt(k, opts), registry, folders);
    } catch (e) {
      assert.ok(e instanceof PromptValidationError);
    }
    // Walking each output's whole upstream (the quadratic way) takes k^2/2 = 4.5M visits here.
    assert.ok(validationWork.nodeVisits <= 200 * 2 * k, `${JSON.stringify(opts)}: ${validationWork.nodeVisits} node visits for ${2 * k} nodes`);
  }
});

test('the error report is bounded: at most MAX_REPORTED_NODE_ERRORS nodes, dependent_outputs capped, with counts of the rest', () => {
  const k = 3000;
  const request = JSON.stringify({ prompt: chainPrompt(k, { badRoot: true, badChain: true }) });
  const e = rejects(chainPrompt(k, { badRoot: true, badChain: true }));
  const body = JSON.stringify(e.toJSON());
  assert.ok(body.length < 2 * request.length, `the report is ${body.length} bytes for a ${request.length}-byte request`);
  assert.equal(Object.keys(e.nodeErrors).length, MAX_REPORTED_NODE_ERRORS);
  assert.equal(e.error.extra_info.node_errors_omitted, k - MAX_REPORTED_NODE_ERRORS);
  assert.match(e.error.details, new RegExp(`${k} node\\(s\\) with errors.*${k - MAX_REPORTED_NODE_ERRORS} more not listed`));
  // The root breaks every output: its list is capped, with the count of the others.
  const root = e.nodeErrors.c0;
  assert.equal(root.errors[0].type, 'value_not_in_list');
  assert.equal(root.dependent_outputs.length, MAX_DEPENDENT_OUTPUTS);
  assert.deepEqual(root.dependent_outputs.slice(0, 3), ['o0', 'o1', 'o2']);
  assert.equal(root.dependent_outputs_omitted, k - MAX_DEPENDENT_OUTPUTS);
  // Small reports are unchanged: no omission fields.
  const small = rejects(chainPrompt(3, { badRoot: true }));
  assert.deepEqual(small.nodeErrors.c0.dependent_outputs, ['o0', 'o1', 'o2']);
  assert.equal('dependent_outputs_omitted' in small.nodeErrors.c0, false);
  assert.equal('node_errors_omitted' in small.error.extra_info, false);
});

test('prompts over MAX_PROMPT_NODES nodes are refused at once (invalid_prompt)', () => {
  const p = chainPrompt(MAX_PROMPT_NODES / 2 + 1);
  const e = rejects(p);
  assert.equal(e.error.type, 'invalid_prompt');
  assert.match(e.error.message, new RegExp(`${MAX_PROMPT_NODES + 2} nodes.*at most ${MAX_PROMPT_NODES}`));
  assert.equal(validatePrompt(chainPrompt(MAX_PROMPT_NODES / 2), registry, folders).outputs.length, MAX_PROMPT_NODES / 2);
});
