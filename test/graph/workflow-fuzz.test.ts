// Corrupts valid workflows and prompts in many seeded random ways: reading, converting and validating must fail only
// with WorkflowFormatError / PromptValidationError (with a message), never crash or hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/runtime/onnx/random.js';
import { PromptValidationError, WorkflowFormatError } from '../../src/runtime/graph/errors.js';
import { parseWorkflowJson, parseWorkflowValue, serializeWorkflow, type UiWorkflow } from '../../src/runtime/graph/workflow-ui.js';
import { isLink, type Prompt } from '../../src/runtime/graph/prompt.js';
import { promptToUi, uiToPrompt } from '../../src/runtime/graph/ui-to-api.js';
import { validatePrompt } from '../../src/runtime/graph/validate.js';
import { fakeRegistry, folders } from './fake-nodes.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ name: f, value: JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown }));
const registry = fakeRegistry();

type Json = unknown;
type Container = Record<string, unknown> | unknown[];

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

function garbage(rng: Rng, depth = 0): Json {
  const simple: Json[] = [
    null, true, false, 0, -1, 1, 0.5, -0.0, 1e308, -1e308, 2 ** 53 + 1, NaN, Infinity, -Infinity, '', 'x', '5', ' 7 ', '1e3', '0x10', 'NaN',
    'KSampler', 'SaveImage', 'Reroute', 'PrimitiveNode', '__proto__', 'constructor', 'toString', '*', 'MODEL', 'x'.repeat(5000), [], {}, [1], ['1', 0],
    ['3', 0], ['999', 0], ['3', 99], ['4', -1], [null, 0], { __value__: [1, 2] }, { __value__: 'a' }, { class_type: 'SaveImage' },
    { class_type: 'SaveImage', inputs: { images: ['8', 0] } }, { name: 'x', type: 'INT', link: 1 }, [1, 2, 3, 4, 5, 'IMAGE'], { 0: 1, 1: 2 },
  ];
  if (depth < 3 && rng.uniform() < 0.3) {
    if (rng.uniform() < 0.5) return Array.from({ length: rng.int(4) }, () => garbage(rng, depth + 1));
    return Object.fromEntries(Array.from({ length: rng.int(4) }, () => [pick(rng, ['a', 'inputs', 'class_type', 'link', 'nodes', '0', '__proto__', 'id']), garbage(rng, depth + 1)]));
  }
  return pick(rng, simple);
}

/** Every container in a value with the keys it holds, found without recursion. */
function containers(root: Json): { c: Container; keys: string[] }[] {
  const out: { c: Container; keys: string[] }[] = [];
  const stack: Json[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v && typeof v === 'object') {
      const c = v as Container;
      const keys = Array.isArray(c) ? c.map((_, i) => String(i)) : Object.keys(c);
      out.push({ c, keys });
      for (const k of keys) stack.push((c as Record<string, unknown>)[k]);
    }
  }
  return out;
}

function set(c: Container, k: string, v: unknown): void {
  Object.defineProperty(c, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** One random corruption, in place. */
function mutate(rng: Rng, root: Json): void {
  const all = containers(root).filter((x) => x.keys.length > 0);
  if (all.length === 0) return;
  const { c, keys } = pick(rng, all);
  const k = pick(rng, keys);
  const cur = (c as Record<string, unknown>)[k];
  switch (rng.int(9)) {
    case 0: // delete a key / an element
      if (Array.isArray(c)) c.splice(Number(k), 1);
      else delete c[k];
      break;
    case 1: // replace with garbage
      set(c, k, garbage(rng));
      break;
    case 2: // change the type
      set(c, k, typeof cur === 'number' ? String(cur) : typeof cur === 'string' ? Number(cur) || cur.length : Array.isArray(cur) ? { ...cur } : JSON.stringify(cur) ?? 'undefined');
      break;
    case 3: // a random link
      set(c, k, [pick(rng, ['3', '4', '5', '8', '9', '10', '13', '99', 'x']), rng.int(5) - 1]);
      break;
    case 4: // huge or odd numbers
      set(c, k, pick(rng, [1e300, -1e300, NaN, Infinity, 2 ** 64, -(2 ** 31), 0.1 + 0.2, Number.MIN_VALUE]));
      break;
    case 5: // a string where an object belongs
      set(c, k, typeof cur === 'object' ? 'not an object' : { nested: { deeper: [cur] } });
      break;
    case 6: // duplicate an element / key
      if (Array.isArray(c)) c.push(structuredClone(cur));
      else set(c, `${k}_copy`, structuredClone(cur));
      break;
    case 7: // a wrong id or slot number
      set(c, k, typeof cur === 'number' ? cur + pick(rng, [1, -1, 100, -100]) : cur);
      break;
    default: {
      // a cycle: point a link-shaped value back at its own node, or link two nodes to each other
      const links = containers(root).filter(
        ({ c: x }) => !Array.isArray(x) && Object.values(x).some((v) => Array.isArray(v) && v.length === 2 && typeof v[0] === 'string'),
      );
      if (links.length > 0) {
        const { c: inputs } = pick(rng, links);
        const name = Object.keys(inputs).find((n) => Array.isArray((inputs as Record<string, unknown>)[n]))!;
        const owner = Object.entries(root as Record<string, unknown>).find(([, n]) => (n as { inputs?: unknown })?.inputs === inputs);
        if (owner) set(inputs, name, [owner[0], 0]);
      } else set(c, k, cur);
    }
  }
}

function expectKnownError(e: unknown, what: string): void {
  if (e instanceof WorkflowFormatError || e instanceof PromptValidationError) {
    assert.ok(e.message.length > 0, `${what}: empty message`);
    if (e instanceof PromptValidationError) {
      assert.ok(e.error.type && e.error.message, `${what}: error body without type/message`);
      for (const entry of Object.values(e.nodeErrors)) for (const ie of entry.errors) assert.ok(ie.message.length > 0 && ie.type, `${what}: input error without message`);
      JSON.stringify(e.toJSON());
    }
    return;
  }
  assert.fail(`${what}: threw ${e instanceof Error ? e.stack : String(e)}`);
}

/** Everything a workflow file goes through: read, convert, validate, and back to an editable workflow. */
function pipeline(text: string, what: string): void {
  try {
    const parsed = parseWorkflowJson(text);
    if (parsed.kind === 'ui') {
      serializeWorkflow(parsed.workflow);
      const prompt = uiToPrompt(parsed.workflow, registry, folders);
      JSON.stringify(prompt);
      validateAndBack(prompt, what);
    } else validateAndBack(parsed.prompt, what);
  } catch (e) {
    expectKnownError(e, what);
  }
}

/** Validate; a valid prompt must survive promptToUi -> 0.4 JSON -> uiToPrompt -> validate unchanged. */
function validateAndBack(prompt: unknown, what: string): void {
  const r = validatePrompt(prompt, registry, folders);
  assert.ok(r.outputs.length > 0, `${what}: validated without outputs`);
  const written = JSON.parse(JSON.stringify(serializeWorkflow(promptToUi(r.prompt, registry))));
  const parsed = parseWorkflowValue(written);
  assert.equal(parsed.kind, 'ui');
  const back = uiToPrompt((parsed as { workflow: UiWorkflow }).workflow, registry, folders);
  const again = validatePrompt(back, registry, folders);
  assert.deepEqual(again.outputs, r.outputs, `${what}: outputs changed on the round trip`);
  if (!Object.keys(r.prompt).every((id) => /^[1-9]\d{0,8}$/.test(id))) return; // other ids are renumbered
  for (const id of needed(r.prompt, r.outputs)) assert.deepEqual(again.prompt[id].inputs, r.prompt[id].inputs, `${what}: node ${id} changed on the round trip`);
}

function needed(prompt: Prompt, outputs: string[]): Set<string> {
  const seen = new Set(outputs);
  const stack = [...outputs];
  while (stack.length > 0)
    for (const v of Object.values(prompt[stack.pop()!].inputs))
      if (isLink(v) && !seen.has(String(v[0]))) {
        seen.add(String(v[0]));
        stack.push(String(v[0]));
      }
  return seen;
}

test('fuzz: corrupted workflows and prompts fail only with format or validation errors', () => {
  const started = Date.now();
  const rng = new Rng(20240611);
  let runs = 0;
  for (let round = 0; round < 80; round++) {
    for (const fx of fixtures) {
      const value = structuredClone(fx.value);
      const n = 1 + rng.int(6);
      for (let i = 0; i < n; i++) mutate(rng, value);
      const what = `round ${round} ${fx.name} (${n} mutations)`;
      // As a file (NaN/Infinity become null in JSON) ...
      let text: string;
      try {
        text = JSON.stringify(value) ?? 'null';
      } catch {
        continue;
      }
      pipeline(text, what);
      // ... and as an in-memory value handed straight to the validator or the reader (NaN and all).
      try {
        validatePrompt(value, registry, folders);
      } catch (e) {
        expectKnownError(e, `${what} (validate directly)`);
      }
      try {
        const parsed = parseWorkflowValue(value);
        if (parsed.kind === 'ui') uiToPrompt(parsed.workflow, registry, folders);
      } catch (e) {
        expectKnownError(e, `${what} (read directly)`);
      }
      runs += 3;
    }
  }
  assert.ok(runs >= 1000, `only ${runs} runs`);
  assert.ok(Date.now() - started < 10000, `fuzzing took ${Date.now() - started} ms`);
});

/** Corruptions that keep a UI workflow readable, so conversion itself is stressed: modes, virtual node types, links
 * re-pointed, widget values shuffled or replaced, slots retyped. */
function mutateUi(rng: Rng, w: { nodes: Record<string, unknown>[]; links: unknown[] }): void {
  const nodes = w.nodes;
  if (nodes.length === 0) return;
  const node = pick(rng, nodes) as Record<string, unknown> & { inputs?: Record<string, unknown>[]; widgets_values?: unknown };
  const linkIds = w.links.map((l) => (Array.isArray(l) ? l[0] : (l as { id: number }).id)) as number[];
  const ids = nodes.map((n) => n.id);
  switch (rng.int(9)) {
    case 0:
      node.mode = pick(rng, [0, 0, 2, 4, 1, 3]);
      break;
    case 1:
      node.type = pick(rng, ['Reroute', 'PrimitiveNode', 'Note', 'MarkdownNote', 'KSampler', 'SaveImage', 'ImageInvert', 'ShowAny', 'Mystery']);
      break;
    case 2:
      if (node.inputs?.length) pick(rng, node.inputs).link = rng.uniform() < 0.8 && linkIds.length ? pick(rng, linkIds) : rng.int(1000);
      break;
    case 3: {
      const l = pick(rng, w.links) as unknown[] | Record<string, unknown>;
      if (!l) break;
      const field: string | number = pick<string | number>(rng, Array.isArray(l) ? [1, 2, 3, 4] : ['origin_id', 'origin_slot', 'target_id', 'target_slot']);
      const value = field === 1 || field === 3 || field === 'origin_id' || field === 'target_id' ? pick(rng, [...ids, 12345]) : rng.int(12) - 1;
      (l as Record<string | number, unknown>)[field] = value;
      break;
    }
    case 4:
      if (Array.isArray(node.widgets_values)) rng.shuffle(node.widgets_values);
      break;
    case 5:
      node.widgets_values = rng.uniform() < 0.5 ? [garbage(rng), garbage(rng)] : { seed: garbage(rng), text: garbage(rng), value: garbage(rng) };
      break;
    case 6:
      if (node.inputs?.length) pick(rng, node.inputs).type = pick(rng, ['*', 'IMAGE', 'INT', 'STRING', 'LATENT', 'CLIP']);
      break;
    case 7:
      w.links.splice(rng.int(w.links.length), 1);
      break;
    default:
      if (node.inputs) node.inputs.push({ name: pick(rng, ['seed', 'text', 'image', 'value', 'images']), type: '*', link: pick(rng, [...linkIds, 999]), widget: { name: 'seed' } });
  }
}

test('fuzz: readable but corrupted UI workflows convert without throwing', () => {
  const rng = new Rng(4242);
  const uis = fixtures.filter((f) => Array.isArray((f.value as { nodes?: unknown }).nodes));
  for (let round = 0; round < 150; round++)
    for (const fx of uis) {
      const value = structuredClone(fx.value) as { nodes: Record<string, unknown>[]; links: unknown[] };
      const n = 1 + rng.int(8);
      for (let i = 0; i < n; i++) mutateUi(rng, value);
      const what = `ui round ${round} ${fx.name}`;
      const parsed = parseWorkflowValue(value); // these corruptions keep the shapes valid
      assert.equal(parsed.kind, 'ui');
      const prompt = uiToPrompt((parsed as { workflow: UiWorkflow }).workflow, registry, folders);
      try {
        validateAndBack(prompt, what);
      } catch (e) {
        expectKnownError(e, what);
      }
    }
});

test('fuzz: damaged JSON text', () => {
  const rng = new Rng(7);
  const texts = fixtures.map((f) => JSON.stringify(f.value));
  for (let i = 0; i < 300; i++) {
    let t = pick(rng, texts);
    const at = rng.int(t.length);
    switch (rng.int(4)) {
      case 0:
        t = t.slice(0, at);
        break;
      case 1:
        t = t.slice(0, at) + pick(rng, ['{', '}', '[', ']', ',', '"', ':', 'null', '-', 'e', '\\', '\u0000']) + t.slice(at);
        break;
      case 2:
        t = t.slice(0, at) + t.slice(at + 1 + rng.int(20));
        break;
      default:
        t = t.replace(/\d+/, String(rng.int(20)));
    }
    pipeline(t, `text ${i}`);
  }
  for (const t of ['', ' ', 'null', '"string"', '[]', '{}', '{"nodes": null}', '{"nodes": [null]}', '[['.repeat(5000) + ']]'.repeat(5000), '{"a":'.repeat(3000)])
    pipeline(t, JSON.stringify(t.slice(0, 20)));
});

test('fuzz: random graphs with cycles and long chains validate without hanging', () => {
  const rng = new Rng(99);
  const started = Date.now();
  for (let round = 0; round < 60; round++) {
    const n = 2 + rng.int(40);
    const prompt: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const type = pick(rng, ['ImageInvert', 'ImageInvert', 'SaveImage', 'ShowAny', 'LoadImage', 'ResizeCheck']);
      const link = () => [String(rng.int(n + 2)), rng.int(3)];
      prompt[String(i)] =
        type === 'ImageInvert'
          ? { class_type: type, inputs: { image: link(), enabled: rng.uniform() < 0.5 } }
          : type === 'SaveImage'
            ? { class_type: type, inputs: { images: link(), filename_prefix: 'f' } }
            : type === 'ShowAny'
              ? { class_type: type, inputs: { value: link() } }
              : type === 'ResizeCheck'
                ? { class_type: type, inputs: { image: link(), width: rng.int(100), height: 64 } }
                : { class_type: type, inputs: { image: 'cat.png' } };
    }
    try {
      const r = validatePrompt(prompt, registry, folders);
      promptToUi(r.prompt, registry);
    } catch (e) {
      expectKnownError(e, `graph ${round}`);
    }
  }
  // A chain of 9,999 nodes and its output (the most nodes a prompt may have): no recursion depth limit is hit.
  const chain: Record<string, unknown> = { 0: { class_type: 'LoadImage', inputs: { image: 'cat.png' } } };
  for (let i = 1; i < 9999; i++) chain[String(i)] = { class_type: 'ImageInvert', inputs: { image: [String(i - 1), 0] } };
  chain.out = { class_type: 'SaveImage', inputs: { images: ['9998', 0], filename_prefix: 'x' } };
  assert.deepEqual(validatePrompt(chain, registry, folders).outputs, ['out']);
  // ... and the same chain closed into one big cycle: every node on it has the error, the first 100 are listed.
  (chain['0'] as { class_type: string; inputs: unknown }).class_type = 'ImageInvert';
  (chain['0'] as { inputs: unknown }).inputs = { image: ['9998', 0] };
  assert.throws(
    () => validatePrompt(chain, registry, folders),
    (e: unknown) =>
      e instanceof PromptValidationError &&
      Object.keys(e.nodeErrors).length === 100 &&
      e.error.extra_info.node_errors_omitted === 9899 &&
      Object.values(e.nodeErrors).every((x) => x.errors[0].type === 'dependency_cycle' && x.errors[0].message.includes('(9999 nodes)')),
  );
  // Generous: a hang or quadratic blow-up shows as minutes; a busy machine as a few seconds.
  assert.ok(Date.now() - started < 10000, `took ${Date.now() - started} ms`);
});
