import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type EventOf, type ExecutionEvent, isFinalEvent } from '../../src/runtime/graph/events.js';
import { compareIds } from '../../src/runtime/graph/compare-ids.js';
import { Executor, type RunOptions } from '../../src/runtime/graph/executor.js';
import type { Prompt } from '../../src/runtime/graph/prompt.js';
import { type FakeModel, fakeNodes, folders } from './executor-fake-nodes.js';
import { run as runCollecting } from './remote-runs.js';

function setup(cacheSize?: number) {
  const fakes = fakeNodes();
  const executor = new Executor(fakes.registry, folders, cacheSize === undefined ? {} : { cacheSize });
  /** Runs the prompt, returning its summary, its events, and the node ids that ran (counters reset each run). */
  const run = async (prompt: Prompt, o: Partial<RunOptions> = {}) => {
    fakes.ran.length = 0;
    return { ...(await runCollecting(executor, prompt, o)), ran: [...fakes.ran] };
  };
  return { ...fakes, executor, run };
}

const ofType = <T extends ExecutionEvent['type']>(events: ExecutionEvent[], type: T) => events.filter((e): e is EventOf<T> => e.type === type);
const executing = (events: ExecutionEvent[]) => ofType(events, 'executing').map((e) => e.node);

/** Train -> Sample(seed) -> Save. */
const trainSample = (seed: number, steps = 3): Prompt => ({
  '1': { class_type: 'Train', inputs: { steps } },
  '2': { class_type: 'Sample', inputs: { model: ['1', 0], seed } },
  '3': { class_type: 'Save', inputs: { value: ['2', 0] } },
});

describe('order', () => {
  const prompt: Prompt = {
    '10': { class_type: 'Save', inputs: { value: ['1', 0], prefix: 'ten' } },
    '4': { class_type: 'Save', inputs: { value: ['3', 0] } },
    '3': { class_type: 'Add', inputs: { a: ['1', 0], b: ['2', 0] } },
    '2': { class_type: 'Number', inputs: { value: 3 } },
    '1': { class_type: 'Number', inputs: { value: 2 } },
    // Not needed by any output node: never runs.
    '5': { class_type: 'Number', inputs: { value: 9 } },
    '6': { class_type: 'Add', inputs: { a: ['5', 0], b: ['5', 0] } },
  };

  test('runs dependencies first, depth-first from the output nodes in id order, and only what they need', async () => {
    const t = setup();
    const { summary, ran, events } = await t.run(prompt);
    assert.equal(summary.status, 'success');
    assert.deepEqual(ran, ['1', '2', '3', '4', '10']);
    assert.deepEqual(summary.executed, ran);
    assert.deepEqual(executing(events), ['1', '2', '3', '4', '10', null]);
    assert.equal(t.received.get('3')!.a, 2);
    assert.equal(t.received.get('4')!.value, 5);
    assert.equal(t.received.get('10')!.value, 2);
    assert.deepEqual(summary.outputs, { '4': { text: ['out:4'] }, '10': { text: ['ten:10'] } });
  });

  test('`outputs` picks the nodes to execute (partial execution)', async () => {
    const t = setup();
    const { summary, ran } = await t.run(prompt, { outputs: ['6'] });
    assert.equal(summary.status, 'success');
    assert.deepEqual(ran, ['5', '6']);
    assert.deepEqual(summary.outputs, {});
  });

  test('natural id order', () => {
    assert.deepEqual(['10', '2', 'a', '1', '10:3', '9:12', '9:2'].sort(compareIds), ['1', '2', '9:2', '9:12', '10', '10:3', 'a']);
  });
});

describe('inputs', () => {
  test('literal lists are unwrapped; missing optional widgets get their schema defaults; others stay absent', async () => {
    const t = setup();
    const { summary } = await t.run({ '1': { class_type: 'Options', inputs: { list: { __value__: [1, 2, 3] }, name: 'given' } } });
    assert.equal(summary.status, 'success');
    assert.deepEqual(t.received.get('1'), { list: [1, 2, 3], name: 'given', flag: true, mode: 'b' });
  });

  test('a defaulted input and the same value given explicitly share a cache entry', async () => {
    const t = setup();
    await t.run({ '1': { class_type: 'Options', inputs: { list: 0 } } });
    const { ran } = await t.run({ '1': { class_type: 'Options', inputs: { list: 0, name: 'unnamed', flag: true } } });
    assert.deepEqual(ran, []);
  });

  test('values are passed by reference, also when they come from the cache', async () => {
    const t = setup();
    const prompt: Prompt = {
      '1': { class_type: 'MakeObject', inputs: {} },
      '2': { class_type: 'Save', inputs: { value: ['1', 0] } },
      '3': { class_type: 'Save', inputs: { value: ['1', 0], prefix: 'x' } },
    };
    await t.run(prompt);
    const first = t.received.get('2')!.value;
    assert.ok(first && typeof first === 'object');
    assert.equal(t.received.get('3')!.value, first);
    const { ran } = await t.run({ ...prompt, '3': { class_type: 'Save', inputs: { value: ['1', 0], prefix: 'y' } } });
    assert.deepEqual(ran, ['3']);
    assert.equal(t.received.get('3')!.value, first);
  });

  test('ctx.rng is seeded by the run seed and node id: same prompt, same numbers', async () => {
    const prompt: Prompt = {
      '1': { class_type: 'Noise', inputs: {} },
      '2': { class_type: 'Noise', inputs: {} },
      '3': { class_type: 'Save', inputs: { value: ['1', 0] } },
      '4': { class_type: 'Save', inputs: { value: ['2', 0] } },
    };
    const a = setup();
    await a.run(prompt);
    const b = setup();
    await b.run(prompt);
    const [a3, a4] = [a.received.get('3')!.value, a.received.get('4')!.value];
    assert.equal(typeof a3, 'number');
    assert.equal(b.received.get('3')!.value, a3);
    assert.equal(b.received.get('4')!.value, a4);
    assert.notEqual(a3, a4);
    // Another run seed draws other numbers, so it is part of the cache key.
    const { ran } = await a.run(prompt, { seed: 7 });
    assert.deepEqual(ran, ['1', '3', '2', '4']);
    assert.notEqual(a.received.get('3')!.value, a3);
  });
});

describe('cache', () => {
  test('changing only the sampler seed reruns the sampler and what follows, never the training', async () => {
    const t = setup();
    const first = await t.run(trainSample(1));
    assert.deepEqual(first.ran, ['1', '2', '3']);
    const model = t.received.get('2')!.model as FakeModel;

    const second = await t.run(trainSample(2));
    assert.equal(second.summary.status, 'success');
    assert.deepEqual(second.ran, ['2', '3']);
    assert.deepEqual(second.summary.cached, ['1']);
    assert.deepEqual(ofType(second.events, 'execution_cached')[0].nodes, ['1']);
    assert.deepEqual(executing(second.events), ['2', '3', null]);
    assert.equal(t.received.get('2')!.model, model, 'the cached model itself is passed on');
    assert.equal(ofType(second.events, 'progress').length, 0, 'no training progress: Train did not run');

    // Back to the first seed: that sampler result is still cached.
    const third = await t.run(trainSample(1));
    assert.deepEqual(third.ran, []);
  });

  test('an unchanged prompt reruns nothing, reports every node cached and re-sends the output nodes\' UI', async () => {
    const t = setup();
    const first = await t.run(trainSample(5));
    const again = await t.run(trainSample(5));
    assert.deepEqual(again.ran, []);
    assert.equal(again.summary.status, 'success');
    assert.deepEqual(again.summary.cached, ['1', '2', '3']);
    assert.deepEqual(again.summary.executed, []);
    assert.deepEqual(again.summary.outputs, first.summary.outputs);
    assert.deepEqual(
      again.events.map((e) => e.type),
      ['execution_start', 'execution_cached', 'executed', 'executing', 'execution_success'],
    );
    assert.deepEqual(ofType(again.events, 'execution_cached')[0].nodes, ['1', '2', '3']);
    assert.deepEqual(ofType(again.events, 'executed')[0], { type: 'executed', promptId: 'p1', node: '3', output: { text: ['out:3'] } });
    assert.deepEqual(executing(again.events), [null]);
  });

  test('a change upstream reruns everything downstream of it', async () => {
    const t = setup();
    await t.run(trainSample(5, 3));
    const { ran } = await t.run(trainSample(5, 4));
    assert.deepEqual(ran, ['1', '2', '3']);
  });

  test('isChanged: a new fingerprint forces a rerun; NaN never caches', async () => {
    const t = setup();
    const prompt = (always: boolean): Prompt => ({
      '1': { class_type: 'ChangeWatcher', inputs: { always } },
      '2': { class_type: 'Save', inputs: { value: ['1', 0] } },
    });
    assert.deepEqual((await t.run(prompt(false))).ran, ['1', '2']);
    assert.deepEqual((await t.run(prompt(false))).ran, []);
    t.outside.version = 2;
    assert.deepEqual((await t.run(prompt(false))).ran, ['1', '2']);
    assert.equal(t.received.get('2')!.value, 2);
    assert.deepEqual((await t.run(prompt(false))).ran, []);

    const before = t.executor.cachedResults;
    assert.deepEqual((await t.run(prompt(true))).ran, ['1', '2']);
    const again = await t.run(prompt(true));
    assert.deepEqual(again.ran, ['1', '2']);
    assert.deepEqual(again.summary.cached, []);
    assert.equal(t.executor.cachedResults, before, 'never-cached results are not stored');
  });

  test('the cache is LRU-bounded; evicted nodes rerun when needed again', async () => {
    const t = setup(1);
    const prompt = (prefix: string): Prompt => ({
      '1': { class_type: 'Number', inputs: { value: 4 } },
      '2': { class_type: 'Add', inputs: { a: ['1', 0], b: ['1', 0] } },
      '3': { class_type: 'Save', inputs: { value: ['2', 0], prefix } },
    });
    assert.deepEqual((await t.run(prompt('a'))).ran, ['1', '2', '3']);
    assert.equal(t.executor.cachedResults, 1);
    // Only the output node is left, and it is enough.
    assert.deepEqual((await t.run(prompt('a'))).ran, []);
    // Its upstream was evicted, so a change at the output runs the whole chain again.
    const { ran, summary } = await t.run(prompt('b'));
    assert.deepEqual(ran, ['1', '2', '3']);
    assert.equal(t.received.get('3')!.value, 8);
    assert.equal(summary.status, 'success');
  });

  test('cacheSize 0 disables caching; clearCache forgets everything', async () => {
    const off = setup(0);
    await off.run(trainSample(1));
    assert.deepEqual((await off.run(trainSample(1))).ran, ['1', '2', '3']);
    const t = setup();
    await t.run(trainSample(1));
    t.executor.clearCache();
    assert.equal(t.executor.cachedResults, 0);
    assert.deepEqual((await t.run(trainSample(1))).ran, ['1', '2', '3']);
  });
});

describe('cancellation', () => {
  test('abort during a slow node: interrupted at that node, nothing after it runs, nothing of it cached', async () => {
    const t = setup();
    const ac = new AbortController();
    const prompt: Prompt = {
      '1': { class_type: 'Number', inputs: { value: 1 } },
      '2': { class_type: 'Slow', inputs: {} },
      '3': { class_type: 'Add', inputs: { a: ['1', 0], b: ['2', 0] } },
      '4': { class_type: 'Save', inputs: { value: ['3', 0] } },
    };
    const { summary, events, ran } = await t.run(prompt, {
      signal: ac.signal,
      onEvent: (e) => {
        if (e.type === 'progress' && e.node === '2' && e.value === 2) ac.abort();
      },
    });
    assert.equal(summary.status, 'interrupted');
    assert.deepEqual(summary.interrupted, { node: '2', nodeType: 'Slow' });
    assert.deepEqual(ran, ['1', '2']);
    assert.deepEqual(summary.executed, ['1']);
    const last = events.at(-1)!;
    assert.deepEqual({ ...last, timestamp: 0 }, { type: 'execution_interrupted', promptId: 'p1', timestamp: 0, node: '2', nodeType: 'Slow', executed: ['1'] });
    assert.deepEqual(events.at(-2), { type: 'executing', promptId: 'p1', node: null });
    assert.equal(ofType(events, 'execution_success').length, 0);

    // Rerun: the node that finished is cached, the interrupted one runs again.
    const again = await t.run({ ...prompt, '2': { class_type: 'Slow', inputs: { steps: 2 } } });
    assert.equal(again.summary.status, 'success');
    assert.deepEqual(again.ran, ['2', '3', '4']);
  });

  test('abort seen between nodes names the next node', async () => {
    const t = setup();
    const ac = new AbortController();
    const { summary, ran } = await t.run(trainSample(1), {
      signal: ac.signal,
      // Abort while Train runs its last step; Train itself finishes (it checks before each step).
      onEvent: (e) => {
        if (e.type === 'progress' && e.node === '1' && e.value === e.max) ac.abort();
      },
    });
    assert.equal(summary.status, 'interrupted');
    assert.deepEqual(summary.interrupted, { node: '2', nodeType: 'Sample' });
    assert.deepEqual(ran, ['1']);
    assert.deepEqual(summary.executed, ['1']);
    assert.deepEqual((await t.run(trainSample(1))).ran, ['2', '3']);
  });

  test('abort before start: nothing runs', async () => {
    const t = setup();
    const ac = new AbortController();
    ac.abort();
    const { summary, events, ran } = await t.run(trainSample(1), { signal: ac.signal });
    assert.equal(summary.status, 'interrupted');
    assert.deepEqual(summary.interrupted, { node: null, nodeType: null });
    assert.deepEqual(ran, []);
    assert.deepEqual(events.map((e) => e.type), ['execution_start', 'executing', 'execution_interrupted']);
  });
});

describe('failure', () => {
  const prompt = (fail: boolean): Prompt => ({
    '1': { class_type: 'Train', inputs: { steps: 2 } },
    '2': { class_type: 'Fail', inputs: { value: ['1', 0], fail } },
    '3': { class_type: 'Save', inputs: { value: ['2', 0] } },
  });

  test('a throwing node ends the run with an error naming it; what ran before stays cached', async () => {
    const t = setup();
    const { summary, events, ran } = await t.run(prompt(true));
    assert.equal(summary.status, 'error');
    assert.deepEqual(ran, ['1', '2']);
    assert.deepEqual(summary.executed, ['1']);
    const err = summary.error!;
    assert.equal(err.node, '2');
    assert.equal(err.nodeType, 'Fail');
    assert.equal(err.message, 'boom: the value is out of range');
    assert.equal(err.exceptionType, 'RangeError');
    assert.ok(err.traceback.length > 0 && err.traceback.every((l) => l.endsWith('\n')));
    assert.deepEqual(err.currentInputs, { value: ['<object steps, weights>'], fail: [true] });

    const ev = events.at(-1)!;
    assert.equal(ev.type, 'execution_error');
    assert.deepEqual({ ...ev, timestamp: 0 }, { type: 'execution_error', promptId: 'p1', timestamp: 0, ...err, executed: ['1'] });
    assert.deepEqual(events.at(-2), { type: 'executing', promptId: 'p1', node: null });

    // Same prompt again: the failed node runs again (its failure is not cached), the training does not.
    assert.deepEqual((await t.run(prompt(true))).ran, ['2']);
    // Fixed: only the fixed node and what follows it run.
    const fixed = await t.run(prompt(false));
    assert.equal(fixed.summary.status, 'success');
    assert.deepEqual(fixed.ran, ['2', '3']);
    assert.deepEqual(fixed.summary.cached, ['1']);
  });

  test('a node returning the wrong number of outputs is an error naming it', async () => {
    const t = setup();
    const { summary } = await t.run({
      '1': { class_type: 'WrongCount', inputs: {} },
      '2': { class_type: 'Save', inputs: { value: ['1', 1] } },
    });
    assert.equal(summary.status, 'error');
    assert.equal(summary.error!.node, '1');
    assert.equal(summary.error!.exceptionType, 'NodeOutputError');
    assert.match(summary.error!.message, /node 1 \(WrongCount\) returned 1 output; its schema declares 2/);
  });

  test('a prompt that should not have passed validation fails cleanly (cycle, unknown type)', async () => {
    const t = setup();
    const cycle = await t.run({
      '1': { class_type: 'Add', inputs: { a: ['2', 0], b: ['2', 0] } },
      '2': { class_type: 'Add', inputs: { a: ['1', 0], b: ['1', 0] } },
      '3': { class_type: 'Save', inputs: { value: ['1', 0] } },
    });
    assert.equal(cycle.summary.status, 'error');
    assert.equal(cycle.summary.error!.exceptionType, 'DependencyCycleError');
    assert.deepEqual(cycle.ran, []);
    const unknown = await t.run({ '1': { class_type: 'Nope', inputs: {} }, '2': { class_type: 'Save', inputs: { value: ['1', 0] } } });
    assert.equal(unknown.summary.error!.node, '1');
    assert.equal(unknown.summary.error!.exceptionType, 'UnknownNodeTypeError');
    assert.ok(isFinalEvent(unknown.events.at(-1)!));
  });

  test('a throwing event listener does not fail the run', async () => {
    const t = setup();
    const orig = console.error;
    console.error = () => {};
    try {
      const { summary } = await t.run(trainSample(1), {
        onEvent: (e) => {
          if (e.type === 'progress') throw new Error('socket closed');
        },
      });
      assert.equal(summary.status, 'success');
    } finally {
      console.error = orig;
    }
  });
});

describe('events', () => {
  test('start first, success last, executing null just before; node events inside their executing span', async () => {
    const t = setup();
    const { events } = await t.run(trainSample(1, 3));
    assert.equal(events[0].type, 'execution_start');
    assert.equal(events[1].type, 'execution_cached');
    assert.equal(events.at(-1)!.type, 'execution_success');
    assert.deepEqual(events.at(-2), { type: 'executing', promptId: 'p1', node: null });
    assert.equal(events.filter(isFinalEvent).length, 1);
    assert.ok(events.every((e) => e.promptId === 'p1'));

    let current: string | null = null;
    for (const e of events) {
      if (e.type === 'executing') current = e.node;
      if (e.type === 'progress' || e.type === 'metrics' || e.type === 'executed') assert.equal(e.node, current);
    }
    assert.deepEqual(
      ofType(events, 'progress').map((e) => [e.value, e.max, e.text]),
      [[1, 3, 'loss 1.000'], [2, 3, 'loss 0.500'], [3, 3, 'loss 0.333']],
    );
    assert.deepEqual(ofType(events, 'metrics').map((e) => [e.step, e.values]), [[1, { loss: 1 }], [2, { loss: 0.5 }], [3, { loss: 1 / 3 }]]);
    assert.deepEqual(ofType(events, 'executed').map((e) => e.node), ['3']);
  });
});
