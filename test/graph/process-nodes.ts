// The registry a ProcessExecutor test's process builds: the worker tests' nodes plus one that dies by a native
// signal, as a segmentation fault in a GPU provider does.
import type { NodeRegistry } from '../../src/runtime/graph/registry.js';
import { segfaultNode } from './remote-runs.js';
import { workerTestRegistry } from './worker-nodes.js';

export function processTestRegistry(): NodeRegistry {
  const registry = workerTestRegistry();
  registry.register(segfaultNode({ type: '*', link: true }));
  return registry;
}
