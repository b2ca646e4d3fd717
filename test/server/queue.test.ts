// The queue: one job at a time in priority order (number/front), delete and clear, interrupting the running job (the
// next one then runs), failing jobs that do not stop the queue, history delete and clear.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestServer, WsClient, getJson, historyOf, postJson, startServer, until } from './helpers.js';

let t: TestServer;
before(async () => {
  t = await startServer();
});
after(async () => {
  await t.close();
});

const slow = (ms: number, tag: string) => ({ 1: { class_type: 'Slow', inputs: { ms, tag } } });
const submit = async (body: Record<string, unknown>) => {
  const res = await postJson(`${t.url}/prompt`, { client_id: 'q', ...body });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.prompt_id as string;
};

test('priority, delete, interrupt: the interrupted job is recorded and the queue goes on', async () => {
  const ws = await WsClient.connect(`${t.wsUrl}?clientId=q`);
  const a = await submit({ prompt: slow(10_000, 'a') });
  await ws.waitFor((m) => m.type === 'executing' && m.data.prompt_id === a && m.data.node === '1');
  const b = await submit({ prompt: slow(30, 'b') });
  const c = await submit({ prompt: slow(30, 'c') });
  const d = await submit({ prompt: slow(30, 'd'), front: true });

  const queue = (await getJson(`${t.url}/queue`)).body;
  assert.deepEqual(queue.queue_running.map((i: unknown[]) => i[1]), [a]);
  assert.deepEqual(queue.queue_pending.map((i: unknown[]) => i[1]), [d, b, c]);
  assert.equal(queue.queue_running[0].length, 5);
  assert.ok(queue.queue_pending[0][0] < 0, 'front gives a negative number');
  assert.deepEqual((await getJson(`${t.url}/prompt`)).body, { exec_info: { queue_remaining: 4 } });

  assert.deepEqual((await postJson(`${t.url}/queue`, { delete: [c] })).body, {});
  assert.deepEqual((await getJson(`${t.url}/api/queue`)).body.queue_pending.map((i: unknown[]) => i[1]), [d, b]);
  // Interrupting another prompt id leaves the running one alone.
  assert.deepEqual((await postJson(`${t.url}/interrupt`, { prompt_id: b })).body, { interrupted: false });
  assert.deepEqual((await postJson(`${t.url}/interrupt`, {})).body, { interrupted: true });

  const stopped = await ws.waitFor((m) => m.type === 'execution_interrupted' && m.data.prompt_id === a);
  assert.deepEqual(Object.keys(stopped.data).sort(), ['executed', 'node_id', 'node_type', 'prompt_id', 'timestamp']);
  assert.equal(stopped.data.node_id, '1');
  assert.equal(stopped.data.node_type, 'Slow');
  const ha = await historyOf(t.url, a);
  assert.equal(ha.status.status_str, 'error');
  assert.equal(ha.status.completed, false);
  assert.equal(ha.status.messages.at(-1)[0], 'execution_interrupted');

  // d (front) then b run; c was deleted.
  assert.deepEqual((await historyOf(t.url, b)).outputs['1'], { text: ['slept b'] });
  assert.deepEqual((await historyOf(t.url, d)).outputs['1'], { text: ['slept d'] });
  const starts = ws.messages.filter((m) => m.type === 'execution_start').map((m) => m.data.prompt_id);
  assert.deepEqual(starts, [a, d, b]);
  assert.deepEqual((await getJson(`${t.url}/history/${c}`)).body, {});
  assert.equal((await getJson(`${t.url}/api/jobs/${a}`)).body.status, 'cancelled');
  await until(async () => (await getJson(`${t.url}/prompt`)).body.exec_info.queue_remaining === 0);
  ws.close();
});

test('a failing node: execution_error in ComfyUI shape, history error, and the next job still runs', async () => {
  const ws = await WsClient.connect(`${t.wsUrl}?clientId=q`);
  const bad = await submit({ prompt: { 1: { class_type: 'Const', inputs: { value: 4 } }, 2: { class_type: 'Fail', inputs: { value: ['1', 0] } } } });
  const good = await submit({ prompt: { 1: { class_type: 'Const', inputs: { value: 5 } }, 2: { class_type: 'Show', inputs: { value: ['1', 0] } } } });
  const err = await ws.waitFor((m) => m.type === 'execution_error' && m.data.prompt_id === bad);
  assert.deepEqual(Object.keys(err.data).sort(), [
    'current_inputs', 'current_outputs', 'exception_message', 'exception_type', 'executed', 'node_id', 'node_type', 'prompt_id', 'timestamp', 'traceback',
  ]);
  assert.equal(err.data.node_id, '2');
  assert.equal(err.data.node_type, 'Fail');
  assert.equal(err.data.exception_message, 'this node always fails');
  assert.equal(err.data.exception_type, 'TypeError');
  assert.deepEqual(err.data.executed, ['1']);
  assert.deepEqual(err.data.current_inputs, { value: [4] });
  assert.ok(Array.isArray(err.data.traceback));
  assert.deepEqual(err.data.current_outputs, ['1']);
  await ws.waitFor((m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === bad);
  const hb = await historyOf(t.url, bad);
  assert.equal(hb.status.status_str, 'error');
  assert.equal(hb.status.messages.at(-1)[0], 'execution_error');
  assert.deepEqual((await historyOf(t.url, good)).outputs['2'], { text: ['5'] });
  const failed = (await getJson(`${t.url}/api/jobs?status=failed`)).body.jobs;
  assert.equal(failed.find((j: { id: string }) => j.id === bad).execution_error.exception_message, 'this node always fails');
  ws.close();
});

test('clear the queue, cancel through the jobs API, delete and clear history', async () => {
  const a = await submit({ prompt: slow(10_000, 'a2') });
  const live = await until(async () => {
    const job = (await getJson(`${t.url}/api/jobs/${a}`)).body;
    return job.current_node === '1' && job;
  });
  assert.equal(live.status, 'in_progress');
  assert.equal(live.progress_state.nodes['1'].state, 'running');
  // A client reconnecting under the submitter's id learns which node of its run is executing.
  const again = await WsClient.connect(`${t.wsUrl}?clientId=q`);
  assert.deepEqual((await again.waitFor((m) => m.type === 'executing')).data, { node: '1', display_node: '1', prompt_id: a });
  again.close();
  const b = await submit({ prompt: slow(10, 'b2') });
  const c = await submit({ prompt: slow(10, 'c2') });
  const pending = (await getJson(`${t.url}/api/jobs?status=pending,running&sort_order=asc`)).body;
  assert.deepEqual(pending.jobs.map((j: { id: string; status: string }) => [j.id, j.status]), [[a, 'in_progress'], [b, 'pending'], [c, 'pending']]);
  assert.deepEqual((await postJson(`${t.url}/api/jobs/${b}/cancel`, {})).body, { cancelled: true });
  await postJson(`${t.url}/queue`, { clear: true });
  assert.deepEqual((await getJson(`${t.url}/queue`)).body.queue_pending, []);
  assert.deepEqual((await postJson(`${t.url}/api/jobs/${a}/cancel`, {})).body, { cancelled: true });
  await historyOf(t.url, a);
  assert.deepEqual((await getJson(`${t.url}/history/${c}`)).body, {});

  const before = Object.keys((await getJson(`${t.url}/history`)).body).length;
  assert.ok(before >= 2);
  await postJson(`${t.url}/history`, { delete: [a] });
  assert.deepEqual((await getJson(`${t.url}/history/${a}`)).body, {});
  assert.equal(Object.keys((await getJson(`${t.url}/history`)).body).length, before - 1);
  await postJson(`${t.url}/api/history`, { clear: true });
  assert.deepEqual((await getJson(`${t.url}/history`)).body, {});
});
