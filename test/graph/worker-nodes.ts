// The registry a WorkerExecutor test's worker thread builds (by module URL and export name): the executor tests' fake
// nodes, plus nodes that only make sense in a worker: one that computes without ever yielding to the event loop, and
// one that ends its thread.
import { type NodeDefinition, defineNode } from '../../src/runtime/graph/node-api.js';
import { NodeRegistry } from '../../src/runtime/graph/registry.js';
import { fakeNodes } from './executor-fake-nodes.js';

export function workerTestRegistry(): NodeRegistry {
  const registry = fakeNodes().registry;
  for (const def of workerOnlyNodes()) registry.register(def);
  return registry;
}

function workerOnlyNodes(): NodeDefinition[] {
  return [
    defineNode({
      type: 'Busy',
      displayName: 'Busy',
      category: 'test',
      description: 'Computes in one synchronous loop, as a native inference call does: no message is read until it ends.',
      inputs: { silent: { type: 'BOOLEAN', default: false, optional: true, tooltip: 'Only check for cancellation, report no progress.' } },
      outputs: [{ name: 'INT', type: 'INT' }],
      async run(inputs, ctx) {
        for (let s = 0; s < 1_000_000; s++) {
          const end = Date.now() + 2;
          while (Date.now() < end);
          if (!inputs.silent) ctx.progress(s, 1_000_000);
          ctx.checkInterrupted();
        }
        return { outputs: [0] };
      },
    }),
    defineNode({
      type: 'Exit',
      displayName: 'Exit',
      category: 'test',
      description: 'Ends the worker thread, as a native crash would.',
      inputs: { value: { type: '*', link: true } },
      outputs: [],
      outputNode: true,
      async run() {
        process.exit(3);
      },
    }),
  ];
}
