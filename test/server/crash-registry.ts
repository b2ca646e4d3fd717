// The registry a crash test's execution process builds: the server tests' nodes plus one that dies by SIGSEGV, as a
// segmentation fault in a GPU provider's native code does.
import type { NodeRegistry } from '../../src/runtime/graph/registry.js';
import { segfaultNode } from '../graph/remote-runs.js';
import { testRegistry } from './helpers.js';

export function crashRegistry(): NodeRegistry {
  const registry = testRegistry();
  registry.register(segfaultNode({ type: 'INT', forceInput: true }));
  return registry;
}
