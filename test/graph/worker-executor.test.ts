// WorkerExecutor runs prompts in a worker thread: the same events and summary as an Executor in this thread, its own
// cache across runs, cancellation even of a node that never yields, and a dead worker failing only its own run.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Executor } from '../../src/runtime/graph/executor.js';
import type { Prompt } from '../../src/runtime/graph/prompt.js';
import { WorkerExecutor } from '../../src/runtime/graph/worker-executor.js';
import { folders } from './executor-fake-nodes.js';
import { comparable, run, trainSample } from './remote-runs.js';
import { workerTestRegistry } from './worker-nodes.js';

const REGISTRY = { url: new URL('./worker-nodes.ts', import.meta.url).href, exportName: 'workerTestRegistry' };
describe('WorkerExecutor', () => {
  const worker = new WorkerExecutor({ registry: REGISTRY, folders });
  after(() => worker.close());

  test('gives the events and summary an Executor in this thread gives', async () => {
    const here = await run(new Executor(workerTestRegistry(), folders), trainSample);
    const there = await run(worker, trainSample);
    assert.equal(there.summary.status, 'success');
    assert.deepEqual(there.summary, here.summary);
    assert.deepEqual(comparable(there.events), comparable(here.events));
    assert.ok(there.events.some((e) => e.type === 'progress'), 'progress crosses the thread');
  });

  test('node ids that are Object.prototype names keep their outputs, in this thread and across it', async () => {
    // JSON text: an object literal's "__proto__" key would set the prototype instead.
    const prompt: Prompt = JSON.parse(
      '{"constructor": {"class_type": "Train", "inputs": {"steps": 2}}, "toString": {"class_type": "Sample", "inputs": {"model": ["constructor", 0], "seed": 7}},' +
        ' "__proto__": {"class_type": "Save", "inputs": {"value": ["toString", 0]}}}',
    );
    const here = await run(new Executor(workerTestRegistry(), folders), prompt);
    const there = await run(worker, prompt);
    for (const { summary } of [here, there]) {
      assert.equal(summary.status, 'success');
      assert.deepEqual(Object.keys(summary.outputs), ['__proto__']);
      assert.deepEqual(Object.getOwnPropertyDescriptor(summary.outputs, '__proto__')?.value, { text: ['out:__proto__'] });
      assert.deepEqual(summary.executed, ['constructor', 'toString', '__proto__']);
    }
    assert.deepEqual(comparable(there.events), comparable(here.events));
  });

  test('keeps its cache across runs until told to clear it', async () => {
    const again = await run(worker, trainSample);
    assert.deepEqual(again.summary.executed, [], 'everything came from the cache');
    worker.clearCache();
    const fresh = await run(worker, trainSample);
    assert.deepEqual(fresh.summary.executed, ['1', '2', '3']);
  });

  test('cancels a node that never yields to the event loop', { timeout: 60_000 }, async () => {
    const abort = new AbortController();
    const started = run(worker, { '1': { class_type: 'Busy', inputs: {} }, '2': { class_type: 'Save', inputs: { value: ['1', 0] } } }, {
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === 'progress' && e.value === 5) abort.abort();
      },
    });
    const { summary } = await started;
    assert.equal(summary.status, 'interrupted');
    assert.deepEqual(summary.interrupted, { node: '1', nodeType: 'Busy' });
  });

  test('cancels a silent busy node through its cancellation checks', { timeout: 60_000 }, async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    const { summary } = await run(worker, { '1': { class_type: 'Busy', inputs: { silent: true } }, '2': { class_type: 'Save', inputs: { value: ['1', 0] } } }, { signal: abort.signal });
    assert.equal(summary.status, 'interrupted');
  });

  test('a second run while one runs is refused; the first is unharmed', async () => {
    const first = run(worker, trainSample);
    await assert.rejects(run(worker, trainSample), /one prompt at a time/);
    assert.equal((await first).summary.status, 'success');
  });

  test('a worker that dies fails its run with the reason; the next run gets a new worker', async () => {
    await assert.rejects(
      run(worker, { '1': { class_type: 'Number', inputs: { value: 1 } }, '2': { class_type: 'Exit', inputs: { value: ['1', 0] } } }),
      /execution worker exited \(code 3\)/,
    );
    const next = await run(worker, trainSample);
    assert.equal(next.summary.status, 'success');
    assert.deepEqual(next.summary.executed, ['1', '2', '3'], 'the new worker starts with an empty cache');
  });

  test('closing during a run fails the run; the executor then refuses runs', async () => {
    const closing = new WorkerExecutor({ registry: REGISTRY, folders });
    const running = run(closing, { '1': { class_type: 'Slow', inputs: {} }, '2': { class_type: 'Save', inputs: { value: ['1', 0] } } }, {
      onEvent: (e) => {
        if (e.type === 'progress' && e.value === 3) void closing.close();
      },
    });
    await assert.rejects(running, /closed/);
    await assert.rejects(run(closing, trainSample), /closed/);
  });

  test('a registry module without the named factory fails each run with what is missing', async () => {
    const broken = new WorkerExecutor({ registry: { ...REGISTRY, exportName: 'noSuchFactory' }, folders });
    try {
      await assert.rejects(run(broken, trainSample), /exports no registry factory named noSuchFactory/);
    } finally {
      await broken.close();
    }
  });
});
