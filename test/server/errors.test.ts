// Every validation error type comes back as ComfyUI's 400 body; malformed requests get a JSON 4xx, never a crash;
// the informational routes answer in ComfyUI's shapes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type TestServer, getJson, postJson, startServer } from './helpers.js';
import { osName } from '../../src/server/routes/system.js';
import { machineAdapters } from '../../src/runtime/engine/gpu-adapter.js';
import { deviceDescription } from '../../src/runtime/engine/session.js';

let t: TestServer;
before(async () => {
  t = await startServer();
});
after(async () => {
  await t.close();
});

const inputErrorCases: [string, Record<string, unknown>, string][] = [
  ['required_input_missing', { 1: { class_type: 'Show', inputs: {} } }, '1'],
  ['bad_linked_input', { 1: { class_type: 'Show', inputs: { value: ['9', 0] } } }, '1'],
  ['return_type_mismatch', { 1: { class_type: 'Train', inputs: { steps: 1 } }, 2: { class_type: 'Show', inputs: { value: ['1', 0] } } }, '2'],
  ['invalid_input_type', { 1: { class_type: 'Const', inputs: { value: 'abc' } }, 2: { class_type: 'Show', inputs: { value: ['1', 0] } } }, '1'],
  ['value_smaller_than_min', { 1: { class_type: 'Const', inputs: { value: -1 } }, 2: { class_type: 'Show', inputs: { value: ['1', 0] } } }, '1'],
  ['value_bigger_than_max', { 1: { class_type: 'Const', inputs: { value: 101 } }, 2: { class_type: 'Show', inputs: { value: ['1', 0] } } }, '1'],
  ['value_not_in_list', { 1: { class_type: 'Train', inputs: { steps: 1, mode: 'blue' } }, 2: { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } }, '1'],
  ['custom_validation_failed', { 1: { class_type: 'Picky', inputs: { word: 'no' } } }, '1'],
  ['exception_during_validation', { 1: { class_type: 'Weird', inputs: { x: 1 } } }, '1'],
  ['dependency_cycle', { 1: { class_type: 'Add', inputs: { a: ['2', 0] } }, 2: { class_type: 'Add', inputs: { a: ['1', 0] } }, 3: { class_type: 'Show', inputs: { value: ['1', 0] } } }, '1'],
];

test('each input-level validation error: 400 with prompt_outputs_failed_validation and node_errors', async () => {
  for (const [type, prompt, node] of inputErrorCases) {
    const res = await postJson(`${t.url}/prompt`, { prompt });
    assert.equal(res.status, 400, type);
    assert.equal(res.body.error.type, 'prompt_outputs_failed_validation', type);
    assert.deepEqual(Object.keys(res.body.error).sort(), ['details', 'extra_info', 'message', 'type']);
    const entry = res.body.node_errors[node];
    assert.ok(entry, `${type}: node_errors has node ${node}: ${JSON.stringify(res.body.node_errors)}`);
    assert.deepEqual(Object.keys(entry).sort(), ['class_type', 'dependent_outputs', 'errors']);
    assert.ok(entry.errors.some((e: { type: string }) => e.type === type), `${type}: ${JSON.stringify(entry.errors)}`);
    for (const e of entry.errors) assert.deepEqual(Object.keys(e).sort(), ['details', 'extra_info', 'message', 'type']);
    assert.ok(entry.dependent_outputs.length > 0);
  }
  // Nothing was queued.
  assert.deepEqual((await getJson(`${t.url}/queue`)).body, { queue_running: [], queue_pending: [] });
});

test('prompt-level errors: invalid_prompt, prompt_no_outputs, no_prompt, invalid_prompt_id', async () => {
  const cases: [unknown, string][] = [
    [{ prompt: 'not a prompt' }, 'invalid_prompt'],
    [{ prompt: { 1: { class_type: 'NoSuchNode', inputs: {} } } }, 'invalid_prompt'],
    [{ prompt: { 1: { inputs: {} } } }, 'invalid_prompt'],
    [{ prompt: { 1: { class_type: 'Const', inputs: { value: 1 } } } }, 'prompt_no_outputs'],
    [{ prompt: { 1: { class_type: 'Picky', inputs: {} } }, partial_execution_targets: ['9'] }, 'prompt_no_outputs'],
    [{ client_id: 'x' }, 'no_prompt'],
    [{ prompt: { 1: { class_type: 'Picky', inputs: {} } }, prompt_id: 'not-a-uuid' }, 'invalid_prompt_id'],
    [{ prompt: { 1: { class_type: 'Picky', inputs: {} } }, number: 'soon' }, 'invalid_prompt'],
    [{ prompt: { 1: { class_type: 'Picky', inputs: {} } }, extra_data: [1] }, 'invalid_prompt'],
  ];
  for (const [body, type] of cases) {
    const res = await postJson(`${t.url}/api/prompt`, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(res.body.error.type, type, JSON.stringify(res.body));
    assert.equal(typeof res.body.error.message, 'string');
    assert.deepEqual(res.body.node_errors, {});
  }
  // A client-chosen UUID is used as the prompt id.
  const id = '0b8e9a44-3c1e-4c6e-9a53-2f4d3c2b1a00';
  const ok = await postJson(`${t.url}/prompt`, { prompt: { 1: { class_type: 'Picky', inputs: { word: 'yes' } } }, prompt_id: id });
  assert.equal(ok.body.prompt_id, id);
});

test('malformed requests: JSON 4xx with a message, and the server keeps serving', async () => {
  const deep = `{"prompt": {"1": {"class_type": "Picky", "inputs": {"word": "y", "x": ${'['.repeat(100_000)}${']'.repeat(100_000)}}}}}`;
  const bodies = [deep, '{bad json', '[]', '"text"', '5', 'null', '{"prompt": {"1": null}}', '{"delete": 5}', '{"delete": [1, 2]}', '{"prompt_id": 7}', ''];
  const routes = ['/prompt', '/queue', '/history', '/interrupt', '/free', '/api/prompt', '/api/queue', '/api/history', '/api/interrupt', '/upload/image', '/api/jobs/x/cancel'];
  for (const route of routes)
    for (const body of bodies) {
      const res = await fetch(`${t.url}${route}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
      assert.ok(res.status < 500, `${route} ${body}: ${res.status}`);
      const text = await res.text();
      if (res.status >= 400) {
        const json = JSON.parse(text);
        assert.equal(typeof json.error.message, 'string', `${route} ${body}`);
      }
    }
  const gets = ['/history?max_items=abc', '/history?offset=1e99', '/api/jobs?limit=0', '/api/jobs?sort_by=name', '/view', '/view?filename=a.png&type=secret', '/models/..%2F..', '/nope', '/api/nope', '/view?filename=%E0%A4%A', '/history/%E0%A4%A', '/object_info/%ZZ', '/api/jobs/%', '/history?max_items=1&max_items=2'];
  for (const route of gets) {
    const res = await fetch(`${t.url}${route}`);
    assert.ok(res.status >= 400 && res.status < 500, `${route}: ${res.status}`);
    assert.equal(typeof (await res.json()).error.message, 'string', route);
  }
  assert.equal((await getJson(`${t.url}/prompt`)).status, 200);
});

test('object_info, system_stats, features, models, embeddings, extensions', async () => {
  const info = (await getJson(`${t.url}/object_info`)).body;
  assert.ok(info.Train && info.SaveImage && info.LoadImage);
  const train = info.Train;
  assert.deepEqual(Object.keys(train).sort(), [
    'category', 'description', 'display_name', 'input', 'input_order', 'name', 'output', 'output_is_list', 'output_name', 'output_node', 'output_tooltips', 'python_module',
  ]);
  assert.deepEqual(train.input.required.steps, ['INT', { default: 3, min: 1, max: 1000 }]);
  assert.deepEqual(train.input.optional.mode, [['rgb', 'gray'], { default: 'rgb' }]);
  assert.deepEqual(train.input_order, { required: ['steps'], optional: ['delay_ms', 'mode'] });
  assert.deepEqual(train.output, ['IMAGE']);
  assert.equal(info.SaveImage.output_node, true);
  assert.deepEqual((await getJson(`${t.url}/api/object_info/Const`)).body, { Const: info.Const });
  assert.deepEqual((await getJson(`${t.url}/object_info/Nope`)).body, {});

  const stats = (await getJson(`${t.url}/system_stats`)).body;
  for (const k of ['os', 'ram_total', 'ram_free', 'comfyui_version', 'python_version']) assert.ok(k in stats.system, k);
  assert.equal(stats.system.os, process.platform === 'win32' ? 'nt' : 'posix', "Python's os.name, as ComfyUI reports it");
  assert.equal(osName('win32'), 'nt');
  for (const p of ['linux', 'darwin', 'freebsd'] as const) assert.equal(osName(p), 'posix');
  assert.deepEqual(Object.keys(stats.devices[0]).slice(0, 5), ['name', 'type', 'index', 'vram_total', 'vram_free']);
  // The device 'auto' runs on first (never a software adapter), then every other WebGPU adapter with its vendor.
  const auto = deviceDescription('auto');
  assert.deepEqual([stats.devices[0].name, stats.devices[0].type], [auto.text, auto.adapter ? 'webgpu' : auto.provider]);
  assert.notEqual(stats.devices[0].software, true);
  for (const a of machineAdapters().filter((x) => x !== auto.adapter)) assert.ok(stats.devices.some((d: { name: string; vendor: string }) => d.name.includes(a.name) && d.vendor === a.vendor), a.name);
  assert.deepEqual((await getJson(`${t.url}/features`)).body, { supports_preview_metadata: true, max_upload_size: 50 * 1024 * 1024 });

  fs.mkdirSync(path.join(t.dir, 'models', 'checkpoints', 'sub'), { recursive: true });
  fs.writeFileSync(path.join(t.dir, 'models', 'checkpoints', 'a.safetensors'), '');
  fs.writeFileSync(path.join(t.dir, 'models', 'checkpoints', 'sub', 'b.safetensors'), '');
  fs.mkdirSync(path.join(t.dir, 'models', 'embeddings'), { recursive: true });
  fs.writeFileSync(path.join(t.dir, 'models', 'embeddings', 'sks.pt'), '');
  assert.deepEqual((await getJson(`${t.url}/models`)).body, ['checkpoints', 'embeddings']);
  assert.deepEqual((await getJson(`${t.url}/api/models/checkpoints`)).body, ['a.safetensors', 'sub/b.safetensors']);
  assert.equal((await getJson(`${t.url}/models/loras`)).status, 404);
  assert.deepEqual((await getJson(`${t.url}/embeddings`)).body, ['sks']);
  assert.deepEqual((await getJson(`${t.url}/extensions`)).body, []);
});

test('example workflows: GET /api/workflows lists them, /api/workflows/{name} serves one', async () => {
  const dir = fs.mkdtempSync(path.join(t.dir, 'wf-'));
  fs.writeFileSync(path.join(dir, 'b.json'), '{"nodes": []}');
  fs.writeFileSync(path.join(dir, 'a.json'), '{"last_node_id": 1}');
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'x');
  const s = await startServer({ workflowsDir: dir });
  try {
    assert.deepEqual((await getJson(`${s.url}/api/workflows`)).body, ['a.json', 'b.json']);
    assert.deepEqual((await getJson(`${s.url}/api/workflows/a.json`)).body, { last_node_id: 1 });
    assert.equal((await getJson(`${s.url}/api/workflows/notes.txt`)).status, 404);
    assert.equal((await getJson(`${s.url}/api/workflows/..%2Fsecret.json`)).status, 404);
  } finally {
    await s.close();
  }
});
