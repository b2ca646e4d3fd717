// Fake node definitions for executor tests: each records that it ran (by node id), so tests can see what ran, in what
// order, and what was served from the cache.
import { setTimeout as sleep } from 'node:timers/promises';
import { type Folders, type NodeDefinition, defineNode } from '../../src/runtime/graph/node-api.js';
import { NodeRegistry } from '../../src/runtime/graph/registry.js';

export const folders: Folders = { input: '/tmp/fake/input', output: '/tmp/fake/output', temp: '/tmp/fake/temp', models: '/tmp/fake/models' };

export interface FakeModel {
  steps: number;
  weights: Float32Array;
}

/** Fresh fake nodes with their own counters. */
export function fakeNodes() {
  /** Node ids in the order they ran. */
  const ran: string[] = [];
  /** The inputs each node received on its last run, by node id. */
  const received = new Map<string, Record<string, unknown>>();
  /** Outside state read by ChangeWatcher's isChanged. */
  const outside = { version: 1 as number };
  const record = (id: string, inputs: Record<string, unknown>) => {
    ran.push(id);
    received.set(id, inputs);
  };

  const defs: NodeDefinition[] = [
    defineNode({
      type: 'Number',
      displayName: 'Number',
      category: 'test',
      description: 'A constant.',
      inputs: { value: { type: 'INT', default: 0 } },
      outputs: [{ name: 'INT', type: 'INT' }],
      async run(inputs, ctx) {
        record(ctx.nodeId, inputs);
        return { outputs: [inputs.value] };
      },
    }),
    defineNode({
      type: 'Add',
      displayName: 'Add',
      category: 'test',
      description: 'a + b.',
      inputs: { a: { type: 'INT', link: true }, b: { type: 'INT', link: true } },
      outputs: [{ name: 'INT', type: 'INT' }],
      async run(inputs, ctx) {
        record(ctx.nodeId, inputs);
        return { outputs: [(inputs.a as number) + (inputs.b as number)] };
      },
    }),
    defineNode({
      type: 'Train',
      displayName: 'Train',
      category: 'test',
      description: 'A slow-to-redo step: must not rerun when only downstream inputs change.',
      inputs: { steps: { type: 'INT', default: 3, min: 1 }, lr: { type: 'FLOAT', default: 0.1, optional: true } },
      outputs: [{ name: 'MODEL', type: 'MODEL' }],
      async run(inputs, ctx) {
        record(ctx.nodeId, inputs);
        const steps = inputs.steps as number;
        const weights = new Float32Array(4);
        for (let s = 1; s <= steps; s++) {
          ctx.checkInterrupted();
          ctx.rng.fillNormal(weights, inputs.lr as number);
          ctx.metrics({ loss: 1 / s }, s);
          ctx.progress(s, steps, `loss ${(1 / s).toFixed(3)}`);
        }
        const model: FakeModel = { steps, weights };
        return { outputs: [model] };
      },
    }),
    defineNode({
      type: 'Sample',
      displayName: 'Sample',
      category: 'test',
      description: 'Uses a model and a seed.',
      inputs: { model: { type: 'MODEL', link: true }, seed: { type: 'INT', default: 0, controlAfterGenerate: true } },
      outputs: [{ name: 'IMAGE', type: 'IMAGE' }],
      async run(inputs, ctx) {
        record(ctx.nodeId, inputs);
        const model = inputs.model as FakeModel;
        return { outputs: [{ count: 1, height: 1, width: 1, channels: 3, data: new Float32Array([model.weights[0], inputs.seed as number, 0]) }] };
      },
    }),
    defineNode({
      type: 'Save',
      displayName: 'Save',
      category: 'test',
      description: 'An output node showing what it got.',
      inputs: { value: { type: '*', link: true }, prefix: { type: 'STRING', default: 'out', optional: true } },
      outputs: [],
      outputNode: true,
      async run(inputs, ctx) {
        record(ctx.nodeId, inputs);
        return { outputs: [], ui: { text: [`${inputs.prefix}:${ctx.nodeId}`] } };
      },
    }),
    defineNode({
      type: 'Slow',
      displayName: 'Slow',
      category: 'test',
      description: 'Loops until interrupted (or `steps` steps), checking for cancellation each step.',
      inputs: { steps: { type: 'INT', default: 1_000_000 } },
      outputs: [{ name: 'INT', type: 'INT' }],
      async run(inputs, ctx) {
        record(ctx.nodeId, inputs);
        const steps = inputs.steps as number;
        for (let s = 0; s < steps; s++) {
          ctx.checkInterrupted();
          ctx.progress(s, steps);
          await sleep(1);
        }
        return { outputs: [steps] };
      },
    }),
    defineNode({
      type: 'Fail',
      displayName: 'Fail',
      category: 'test',
      description: 'Throws when `fail` is set, else passes its input through.',
      inputs: { value: { type: '*', link: true }, fail: { type: 'BOOLEAN', default: true } },
      outputs: [{ name: 'value', type: '*' }],
      async run(inputs, ctx) {
        record(ctx.nodeId, inputs);
        if (inputs.fail) throw new RangeError('boom: the value is out of range');
        return { outputs: [inputs.value] };
      },
    }),
    defineNode({
      type: 'ChangeWatcher',
      displayName: 'ChangeWatcher',
      category: 'test',
      description: 'Reads outside state; isChanged fingerprints it (NaN when `always` is set).',
      inputs: { always: { type: 'BOOLEAN', default: false } },
      outputs: [{ name: 'INT', type: 'INT' }],
      isChanged: (inputs) => (inputs.always ? NaN : outside.version),
      async run(inputs, ctx) {
        record(ctx.nodeId, inputs);
        return { outputs: [outside.version] };
      },
    }),
    defineNode({
      type: 'MakeObject',
      displayName: 'MakeObject',
      category: 'test',
      description: 'Returns a fresh large object.',
      inputs: {},
      outputs: [{ name: 'OBJECT', type: 'OBJECT' }],
      async run(inputs, ctx) {
        record(ctx.nodeId, inputs);
        return { outputs: [{ payload: new Float32Array(1 << 16) }] };
      },
    }),
    defineNode({
      type: 'Options',
      displayName: 'Options',
      category: 'test',
      description: 'Optional widgets with defaults and a list literal.',
      inputs: {
        list: { type: 'FLOAT', default: 0 },
        name: { type: 'STRING', default: 'unnamed', optional: true },
        flag: { type: 'BOOLEAN', default: true, optional: true },
        mode: { type: 'COMBO', options: ['a', 'b'], default: 'b', optional: true },
        noDefault: { type: 'INT', optional: true },
        extra: { type: 'INT', link: true, optional: true },
      },
      outputs: [{ name: 'INT', type: 'INT' }],
      outputNode: true,
      async run(inputs, ctx) {
        record(ctx.nodeId, inputs);
        return { outputs: [1] };
      },
    }),
    defineNode({
      type: 'WrongCount',
      displayName: 'WrongCount',
      category: 'test',
      description: 'Declares two outputs, returns one.',
      inputs: {},
      outputs: [
        { name: 'a', type: 'INT' },
        { name: 'b', type: 'INT' },
      ],
      async run(inputs, ctx) {
        record(ctx.nodeId, inputs);
        return { outputs: [1] };
      },
    }),
    defineNode({
      type: 'Noise',
      displayName: 'Noise',
      category: 'test',
      description: 'Draws from ctx.rng.',
      inputs: {},
      outputs: [{ name: 'FLOAT', type: 'FLOAT' }],
      async run(inputs, ctx) {
        record(ctx.nodeId, inputs);
        return { outputs: [ctx.rng.uniform()] };
      },
    }),
  ];

  return { registry: new NodeRegistry(defs), ran, received, outside };
}
