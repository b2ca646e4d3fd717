// A node that crashes natively (SIGSEGV) while the server runs it: the server keeps serving, the job fails with an
// execution_error that names the node and the signal, and the next job runs in a new execution process.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { crashRegistry } from './crash-registry.js';
import { WsClient, getJson, historyOf, postJson, startServer } from './helpers.js';

const t = await startServer({ registry: crashRegistry(), registryModule: { url: new URL('./crash-registry.ts', import.meta.url).href, exportName: 'crashRegistry' } });
after(() => t.close());

test('a segfault in a node fails its job with execution_error naming the node; the queue and the server go on', { timeout: 90_000 }, async () => {
  const ws = await WsClient.connect(`${t.wsUrl}?clientId=crash`);
  const crash = await postJson(`${t.url}/prompt`, { client_id: 'crash', prompt: { 1: { class_type: 'Const', inputs: { value: 4 } }, 2: { class_type: 'Segfault', inputs: { value: ['1', 0] } } } });
  const next = await postJson(`${t.url}/prompt`, { client_id: 'crash', prompt: { 1: { class_type: 'Const', inputs: { value: 5 } }, 2: { class_type: 'Show', inputs: { value: ['1', 0] } } } });
  assert.equal(crash.status, 200);
  const failed = await historyOf(t.url, crash.body.prompt_id);
  assert.equal(failed.status.status_str, 'error');
  const error = failed.status.messages.find(([type]: [string]) => type === 'execution_error')?.[1];
  assert.equal(error.node_id, '2');
  assert.equal(error.node_type, 'Segfault');
  assert.match(error.exception_message, /execution process was killed by SIGSEGV \(a native crash\)/);
  assert.equal((await getJson(`${t.url}/queue`)).status, 200, 'the server still answers');
  const ok = await historyOf(t.url, next.body.prompt_id);
  assert.equal(ok.status.status_str, 'success', 'the next job ran in a new process');
  const wsError = await ws.waitFor((m) => m.type === 'execution_error' && m.data.prompt_id === crash.body.prompt_id);
  assert.equal(wsError.data.node_id, '2');
  ws.close();
});
