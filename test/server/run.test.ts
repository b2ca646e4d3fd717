// A prompt submitted over HTTP runs, and its messages reach the submitting client over the WebSocket in ComfyUI's
// shapes and order; the result is in /history, /api/jobs and, for images, /view.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type TestServer, WsClient, getJson, historyOf, postJson, startServer } from './helpers.js';

let t: TestServer;
before(async () => {
  t = await startServer();
});
after(async () => {
  await t.close();
});

const trainAndSave = {
  1: { class_type: 'Train', inputs: { steps: 3 } },
  2: { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'run' } },
};

test('a run: WS messages in ComfyUI order, to the submitting client only; history, jobs and view', async () => {
  const a = await WsClient.connect(`${t.wsUrl}?clientId=alice`);
  const b = await WsClient.connect(`${t.wsUrl}?clientId=bob`);
  assert.equal(a.messages[0].type, 'status');
  assert.deepEqual(a.messages[0].data, { status: { exec_info: { queue_remaining: 0 } }, sid: 'alice' });

  const res = await postJson(`${t.url}/prompt`, { prompt: trainAndSave, client_id: 'alice', extra_data: { extra_pnginfo: { workflow: { id: 'wf-1' } } } });
  assert.equal(res.status, 200);
  const { prompt_id: id, number, node_errors } = res.body;
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.equal(typeof number, 'number');
  assert.deepEqual(node_errors, {});

  const done = await a.waitFor((m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === id);
  // The history entry is stored before executing {node: null} goes out.
  const stored = (await getJson(`${t.url}/history/${id}`)).body;
  assert.ok(stored[id], 'history entry exists when executing null arrives');
  assert.deepEqual(done.data, { node: null, prompt_id: id });

  const seq = a.of(id).map((m) => (m.type === 'executing' ? `executing:${m.data.node}` : m.type)).filter((s) => s !== 'progress_state');
  assert.deepEqual(seq, [
    'execution_start',
    'execution_cached',
    'executing:1',
    'training_metrics', 'progress',
    'training_metrics', 'progress',
    'training_metrics', 'progress',
    'instructbooth.log',
    'executing:2',
    'executed',
    'execution_success',
    'executing:null',
  ]);
  const msgs = a.of(id);
  const get = (type: string) => msgs.find((m) => m.type === type)!.data;
  assert.deepEqual(Object.keys(get('execution_start')).sort(), ['prompt_id', 'timestamp']);
  assert.deepEqual(get('execution_cached').nodes, []);
  assert.deepEqual(msgs.find((m) => m.type === 'executing')!.data, { node: '1', display_node: '1', prompt_id: id });
  assert.deepEqual(get('progress'), { value: 1, max: 3, prompt_id: id, node: '1' });
  const metrics = msgs.filter((m) => m.type === 'training_metrics').map((m) => m.data);
  assert.deepEqual(metrics.map((m) => m.step), [1, 2, 3]);
  assert.deepEqual(metrics[1].values, { loss: 0.5, reward_mean: 0.2, reward_std: 0.1, lr: 1e-4 });
  assert.equal(metrics[0].node, '1');
  assert.equal(get('instructbooth.log').message, 'trained');
  const executed = get('executed');
  assert.equal(executed.node, '2');
  assert.equal(executed.display_node, '2');
  assert.equal(executed.output.images.length, 1);
  assert.deepEqual(Object.keys(executed.output.images[0]).sort(), ['filename', 'subfolder', 'type']);
  const state = msgs.filter((m) => m.type === 'progress_state').at(-1)!.data;
  assert.equal(state.nodes['1'].state, 'finished');
  assert.equal(state.nodes['2'].state, 'finished');

  // Binary frames: a JPEG preview (type 1, image type 1) and progress text (type 3) for node 1.
  const previews = a.frames.filter((f) => f.readUInt32BE(0) === 1);
  assert.equal(previews.length, 1);
  assert.equal(previews[0].readUInt32BE(4), 1);
  assert.deepEqual([...previews[0].subarray(8, 10)], [0xff, 0xd8]);
  const texts = a.frames.filter((f) => f.readUInt32BE(0) === 3).map((f) => {
    const n = f.readUInt32BE(4);
    return [f.subarray(8, 8 + n).toString(), f.subarray(8 + n).toString()];
  });
  assert.deepEqual(texts, [['1', 'loss 1.000'], ['1', 'loss 0.500'], ['1', 'loss 0.333']]);

  // Bob saw the queue change but nothing of Alice's run.
  assert.deepEqual(b.of(id), []);
  assert.equal(b.frames.length, 0);
  assert.ok(b.messages.some((m) => m.type === 'status' && m.data.status.exec_info.queue_remaining === 1));
  assert.ok(b.messages.some((m) => m.type === 'status' && !('sid' in m.data) && m.data.status.exec_info.queue_remaining === 0));

  // History entry, ComfyUI's shape.
  const entry = stored[id];
  assert.deepEqual(Object.keys(entry).sort(), ['meta', 'outputs', 'prompt', 'status']);
  const [num, pid, prompt, extra, outputs] = entry.prompt;
  assert.equal(num, number);
  assert.equal(pid, id);
  assert.deepEqual(prompt, trainAndSave);
  assert.equal(extra.client_id, 'alice');
  assert.equal(typeof extra.create_time, 'number');
  assert.deepEqual(outputs, ['2']);
  assert.deepEqual(entry.status.status_str, 'success');
  assert.equal(entry.status.completed, true);
  assert.deepEqual(entry.status.messages.map((m: [string]) => m[0]), ['execution_start', 'execution_cached', 'execution_success']);
  assert.deepEqual(entry.meta['2'], { node_id: '2', display_node: '2', parent_node: null, real_node_id: '2' });
  const image = entry.outputs['2'].images[0];
  assert.equal(image.type, 'output');

  // /history lists it; max_items gives the newest.
  const all = (await getJson(`${t.url}/history`)).body;
  assert.ok(all[id]);
  assert.deepEqual(Object.keys((await getJson(`${t.url}/api/history?max_items=1`)).body), [id]);
  assert.deepEqual((await getJson(`${t.url}/history/not-a-prompt`)).body, {});

  // /view: the saved bytes; preview=webp;90 and jpeg conversions.
  const q = `filename=${encodeURIComponent(image.filename)}&subfolder=${encodeURIComponent(image.subfolder)}&type=output`;
  const raw = await fetch(`${t.url}/view?${q}`);
  assert.equal(raw.status, 200);
  assert.equal(raw.headers.get('content-type'), 'image/png');
  const onDisk = fs.readFileSync(path.join(t.dir, 'output', image.subfolder, image.filename));
  assert.ok(Buffer.from(await raw.arrayBuffer()).equals(onDisk));
  const webp = await fetch(`${t.url}/api/view?${q}&preview=webp;90`);
  assert.equal(webp.headers.get('content-type'), 'image/webp');
  const wb = Buffer.from(await webp.arrayBuffer());
  assert.equal(wb.toString('latin1', 0, 4), 'RIFF');
  assert.equal(wb.toString('latin1', 8, 12), 'WEBP');
  const jpeg = await fetch(`${t.url}/view?${q}&preview=jpeg;50`);
  assert.equal(jpeg.headers.get('content-type'), 'image/jpeg');
  assert.deepEqual([...Buffer.from(await jpeg.arrayBuffer()).subarray(0, 2)], [0xff, 0xd8]);
  assert.equal((await fetch(`${t.url}/view?filename=missing.png`)).status, 404);

  // Jobs API.
  const jobs = (await getJson(`${t.url}/api/jobs?status=completed`)).body;
  const job = jobs.jobs.find((j: { id: string }) => j.id === id);
  assert.equal(job.status, 'completed');
  assert.equal(job.workflow_id, 'wf-1');
  assert.equal(job.outputs_count, 1);
  assert.equal(job.preview_output.nodeId, '2');
  assert.equal(job.preview_output.mediaType, 'images');
  assert.ok(job.execution_end_time >= job.execution_start_time);
  assert.deepEqual(Object.keys(jobs.pagination).sort(), ['has_more', 'limit', 'offset', 'total']);
  const detail = (await getJson(`${t.url}/api/jobs/${id}`)).body;
  assert.equal(detail.training_metrics['1'].length, 3);
  assert.deepEqual(detail.training_metrics['1'][2], { step: 3, values: { loss: 1 / 3, reward_mean: 0.3, reward_std: 0.1, lr: 1e-4 } });
  assert.equal(detail.execution_status.status_str, 'success');
  assert.deepEqual(detail.workflow.prompt, trainAndSave);
  assert.equal((await getJson(`${t.url}/api/jobs/nope`)).status, 404);
  assert.equal((await getJson(`${t.url}/api/jobs?status=weird`)).status, 400);

  // The same prompt again: everything comes from the executor's cache, the saved image is re-sent.
  const again = (await postJson(`${t.url}/api/prompt`, { prompt: trainAndSave, client_id: 'alice' })).body.prompt_id;
  await a.waitFor((m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === again);
  assert.deepEqual(a.of(again).find((m) => m.type === 'execution_cached')!.data.nodes, ['1', '2']);
  assert.equal(a.of(again).find((m) => m.type === 'executed')!.data.node, '2');
  a.close();
  b.close();
});

test('no client_id: messages go to every client; feature flags give previews with metadata (frame type 4)', async () => {
  const c = await WsClient.connect(`${t.wsUrl}?clientId=carol`, { flags: { supports_preview_metadata: true } });
  const flags = await c.waitFor((m) => m.type === 'feature_flags');
  assert.equal(flags.data.supports_preview_metadata, true);
  assert.equal(typeof flags.data.max_upload_size, 'number');
  const id = (await postJson(`${t.url}/prompt`, { prompt: { 1: { class_type: 'Train', inputs: { steps: 2, mode: 'gray' } }, 2: { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } } })).body.prompt_id;
  await c.waitFor((m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === id);
  assert.ok(c.of(id).some((m) => m.type === 'execution_success'));
  const frame = await until(() => c.frames.find((f) => f.readUInt32BE(0) === 4));
  const n = frame.readUInt32BE(4);
  const meta = JSON.parse(frame.subarray(8, 8 + n).toString());
  assert.deepEqual(meta, { node_id: '1', prompt_id: id, display_node_id: '1', parent_node_id: null, real_node_id: '1', image_type: 'image/jpeg' });
  assert.deepEqual([...frame.subarray(8 + n, 10 + n)], [0xff, 0xd8]);
  const entry = await historyOf(t.url, id);
  assert.equal(entry.outputs['2'].images[0].type, 'temp');
  c.close();
});

test('a UI workflow is accepted as {workflow} and converted on the server; it is embedded as extra_pnginfo', async () => {
  const workflow = {
    last_node_id: 2,
    last_link_id: 1,
    nodes: [
      { id: 1, type: 'Const', pos: [0, 0], size: [200, 60], flags: {}, order: 0, mode: 0, inputs: [], outputs: [{ name: 'INT', type: 'INT', links: [1], slot_index: 0 }], properties: {}, widgets_values: [7] },
      { id: 2, type: 'Show', pos: [300, 0], size: [200, 60], flags: {}, order: 1, mode: 0, inputs: [{ name: 'value', type: 'INT', link: 1 }], outputs: [], properties: {}, widgets_values: [] },
    ],
    links: [[1, 1, 0, 2, 0, 'INT']],
    groups: [],
    config: {},
    extra: {},
    version: 0.4,
  };
  const res = await postJson(`${t.url}/prompt`, { workflow });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const entry = await historyOf(t.url, res.body.prompt_id);
  assert.deepEqual(entry.outputs['2'], { text: ['7'] });
  assert.equal(entry.prompt[3].extra_pnginfo.workflow.last_node_id, 2);
  assert.equal(entry.prompt[2]['1'].class_type, 'Const');

  const bad = await postJson(`${t.url}/prompt`, { workflow: { nodes: 5 } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.type, 'invalid_prompt');
  assert.deepEqual(bad.body.node_errors, {});
});

async function until<T>(fn: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('node ids that are Object.prototype names ("__proto__", "constructor", ...) keep their outputs, metrics and progress', async () => {
  // Written as JSON text: an object literal's "__proto__" key would set the prototype instead.
  const prompt =
    '{"constructor": {"class_type": "Train", "inputs": {"steps": 3}},' +
    ' "__proto__": {"class_type": "SaveImage", "inputs": {"images": ["constructor", 0], "filename_prefix": "proto"}},' +
    ' "toString": {"class_type": "Const", "inputs": {"value": 5}},' +
    ' "hasOwnProperty": {"class_type": "Show", "inputs": {"value": ["toString", 0]}}}';
  const ws = await WsClient.connect(`${t.wsUrl}?clientId=protos`);
  try {
    const res = await postJson(`${t.url}/prompt`, `{"prompt": ${prompt}, "client_id": "protos"}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const id = res.body.prompt_id;
    const entry = await historyOf(t.url, id);
    assert.equal(entry.status.status_str, 'success', JSON.stringify(entry.status));
    assert.deepEqual(Object.keys(entry.outputs).sort(), ['__proto__', 'hasOwnProperty']);
    assert.equal(entry.outputs.__proto__.images.length, 1);
    assert.match(entry.outputs.__proto__.images[0].filename, /^proto_/);
    assert.deepEqual(entry.outputs.hasOwnProperty.text, ['5']);
    assert.deepEqual(Object.keys(entry.meta).sort(), ['__proto__', 'hasOwnProperty']);
    assert.equal(entry.meta.__proto__.node_id, '__proto__');

    await ws.waitFor((m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === id);
    const executed = ws.of(id).filter((m) => m.type === 'executed').map((m) => m.data.node);
    assert.deepEqual(executed.sort(), ['__proto__', 'hasOwnProperty']);
    const states = ws.of(id).filter((m) => m.type === 'progress_state');
    const last = states.at(-1)!.data.nodes;
    assert.deepEqual(Object.keys(last).sort(), ['__proto__', 'constructor', 'hasOwnProperty', 'toString']);
    assert.equal(last.__proto__.state, 'finished');
    assert.equal(last.constructor.node_id, 'constructor');

    const job = (await getJson(`${t.url}/api/jobs/${id}`)).body;
    assert.equal(job.outputs_count, 1, 'the saved image');
    assert.equal(job.preview_output.nodeId, '__proto__');
    assert.deepEqual(Object.keys(job.training_metrics), ['constructor']);
    assert.equal(job.training_metrics.constructor.length, 3);
    assert.deepEqual(Object.keys(job.outputs).sort(), ['__proto__', 'hasOwnProperty']);
  } finally {
    ws.close();
  }
});
