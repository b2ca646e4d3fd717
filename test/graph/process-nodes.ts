// The registry a ProcessExecutor test's process builds: the worker tests' nodes plus one that dies by a native
// signal, as a segmentation fault in a GPU provider does.
import { defineNode } from '../../src/runtime/graph/node-api.js';
import type { NodeRegistry } from '../../src/runtime/graph/registry.js';
import { workerTestRegistry } from './worker-nodes.js';

export function processTestRegistry(): NodeRegistry {
  const registry = workerTestRegistry();
  registry.register(
    defineNode({
      type: 'Segfault',
      displayName: 'Segfault',
      category: 'test',
      description: 'Kills its process with SIGSEGV, as a crash in native code does.',
      inputs: { value: { type: '*', link: true } },
      outputs: [],
      outputNode: true,
      async run() {
        process.kill(process.pid, 'SIGSEGV');
        await new Promise(() => undefined);
        return { outputs: [] };
      },
    }),
  );
  return registry;
}
