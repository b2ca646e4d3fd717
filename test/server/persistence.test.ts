// Queue and history live in SQLite: after a restart finished results are still there, a job cut off while running
// is an interrupted history entry, and pending jobs run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WsClient, getJson, historyOf, postJson, startServer, tempDir, until } from './helpers.js';

const slow = (ms: number, tag: string) => ({ 1: { class_type: 'Slow', inputs: { ms, tag } } });

test('restart after a crash: history kept, the running job marked interrupted, the pending job resumed', async () => {
  const dir = tempDir();
  const s1 = await startServer({ dir });
  const quick = (await postJson(`${s1.url}/prompt`, { prompt: { 1: { class_type: 'Const', inputs: { value: 3 } }, 2: { class_type: 'Show', inputs: { value: ['1', 0] } } } })).body.prompt_id;
  await historyOf(s1.url, quick);
  const ws = await WsClient.connect(`${s1.wsUrl}?clientId=p`);
  const running = (await postJson(`${s1.url}/prompt`, { prompt: slow(20_000, 'r'), client_id: 'p' })).body.prompt_id;
  await ws.waitFor((m) => m.type === 'executing' && m.data.node === '1' && m.data.prompt_id === running);
  const pending = (await postJson(`${s1.url}/prompt`, { prompt: slow(20, 'p') })).body;
  ws.close();
  await s1.close('abandon'); // as if the process died: nothing more is written

  const s2 = await startServer({ dir });
  try {
    assert.deepEqual((await historyOf(s2.url, quick)).outputs['2'], { text: ['3'] });
    const cut = await historyOf(s2.url, running);
    assert.equal(cut.status.status_str, 'error');
    assert.equal(cut.status.completed, false);
    assert.deepEqual(cut.status.messages.map((m: [string]) => m[0]), ['execution_start', 'execution_cached', 'execution_interrupted']);
    const last = cut.status.messages.at(-1)[1];
    assert.equal(last.prompt_id, running);
    assert.equal(last.node_id, '1');
    assert.equal(last.node_type, 'Slow');
    assert.equal(cut.prompt[1], running);
    assert.equal(cut.prompt[3].client_id, 'p');
    assert.equal((await getJson(`${s2.url}/api/jobs/${running}`)).body.status, 'cancelled');
    assert.ok(s2.logs.some((l) => l.includes(running) && l.includes('interrupted')));

    const resumed = await historyOf(s2.url, pending.prompt_id);
    assert.equal(resumed.status.status_str, 'success');
    assert.deepEqual(resumed.outputs['1'], { text: ['slept p'] });
    assert.equal(resumed.prompt[0], pending.number);
    // New prompts queue after the old ones: the priority counter survived.
    const next = (await postJson(`${s2.url}/prompt`, { prompt: slow(1, 'n') })).body;
    assert.ok(next.number > pending.number);
    await historyOf(s2.url, next.prompt_id);
  } finally {
    await s2.close();
  }
});

test('graceful stop: the running job is stored as interrupted at once, queued jobs wait for the next start', async () => {
  const dir = tempDir();
  const s1 = await startServer({ dir });
  const a = (await postJson(`${s1.url}/prompt`, { prompt: slow(20_000, 'a') })).body.prompt_id;
  await until(async () => (await getJson(`${s1.url}/queue`)).body.queue_running.length === 1);
  const b = (await postJson(`${s1.url}/prompt`, { prompt: slow(10, 'b') })).body.prompt_id;
  await s1.close('graceful');

  const s2 = await startServer({ dir });
  try {
    const ha = await historyOf(s2.url, a);
    assert.equal(ha.status.messages.at(-1)[0], 'execution_interrupted');
    assert.deepEqual((await historyOf(s2.url, b)).outputs['1'], { text: ['slept b'] });
    assert.equal(Object.keys((await getJson(`${s2.url}/history`)).body).length, 2);
  } finally {
    await s2.close();
  }
});
