// The registry a crash test's execution process builds: the server tests' nodes plus one that dies by SIGSEGV, as a
// segmentation fault in a GPU provider's native code does.
import { defineNode } from '../../src/runtime/graph/node-api.js';
import { NodeRegistry } from '../../src/runtime/graph/registry.js';
import { testRegistry } from './helpers.js';

export function crashRegistry(): NodeRegistry {
  const registry = testRegistry();
  registry.register(
    defineNode({
      type: 'Segfault',
      displayName: 'Segfault',
      category: 'test',
      description: 'Kills its process with SIGSEGV.',
      inputs: { value: { type: 'INT', forceInput: true } },
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
