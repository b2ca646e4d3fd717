// ProcessExecutor runs prompts in a child process: the same events and summary as an Executor here, cancellation of
// a node that never yields, and a native crash (SIGSEGV) that fails only its own run while the next one runs.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { ExecutionEvent } from '../../src/runtime/graph/events.js';
import { Executor } from '../../src/runtime/graph/executor.js';
import { ProcessExecutor } from '../../src/runtime/graph/process-executor.js';
import { folders } from './executor-fake-nodes.js';
import { processTestRegistry } from './process-nodes.js';
import { comparable, run, trainSample } from './remote-runs.js';

const REGISTRY = { url: new URL('./process-nodes.ts', import.meta.url).href, exportName: 'processTestRegistry' };
describe('ProcessExecutor', () => {
  const executor = new ProcessExecutor({ registry: REGISTRY, folders });
  after(() => executor.close());

  test('gives the events and summary an Executor in this thread gives', async () => {
    const here = await run(new Executor(processTestRegistry(), folders), trainSample);
    const there = await run(executor, trainSample);
    assert.equal(there.summary.status, 'success');
    assert.deepEqual(there.summary, here.summary);
    assert.deepEqual(comparable(there.events), comparable(here.events));
  });

  test('cancels a node that never yields to the event loop', { timeout: 60_000 }, async () => {
    const abort = new AbortController();
    const { summary, events } = await run(executor, { '1': { class_type: 'Busy', inputs: {} }, '2': { class_type: 'Save', inputs: { value: ['1', 0] } } }, {
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === 'progress' && e.value === 5) abort.abort();
      },
    });
    assert.equal(summary.status, 'interrupted');
    assert.equal(events.at(-1)?.type, 'execution_interrupted');
  });

  test('a native crash fails its run with the signal, and the next run gets a new process', { timeout: 60_000 }, async () => {
    const seen: ExecutionEvent[] = [];
    await assert.rejects(
      run(executor, { '1': { class_type: 'Train', inputs: { steps: 1 } }, '2': { class_type: 'Segfault', inputs: { value: ['1', 0] } } }, { onEvent: (e) => seen.push(e) }),
      /the execution process was killed by SIGSEGV \(a native crash\)/,
    );
    // The events still in flight die with the process; the node that crashed is named all the same (trace pipe).
    assert.equal(seen.filter((e) => e.type === 'executing').at(-1)?.node, '2', 'the caller learns which node crashed');
    const after = await run(executor, trainSample);
    assert.equal(after.summary.status, 'success');
    assert.deepEqual(after.summary.executed, ['1', '2', '3'], 'a new process, an empty cache');
  });
});
