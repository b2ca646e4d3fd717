// What the executor tests share: a prompt run that collects its events, the train-sample prompt, events compared
// without their timestamps, and a node that dies by SIGSEGV as a native crash does.
import type { ExecutionEvent } from '../../src/runtime/graph/events.js';
import type { Executor, RunOptions } from '../../src/runtime/graph/executor.js';
import { defineNode, type InputSpec } from '../../src/runtime/graph/node-api.js';
import type { Prompt } from '../../src/runtime/graph/prompt.js';

export const trainSample: Prompt = {
  '1': { class_type: 'Train', inputs: { steps: 3 } },
  '2': { class_type: 'Sample', inputs: { model: ['1', 0], seed: 7 } },
  '3': { class_type: 'Save', inputs: { value: ['2', 0] } },
};

export async function run(executor: { run(p: Prompt, o: RunOptions): ReturnType<Executor['run']> }, prompt: Prompt, o: Partial<RunOptions> = {}) {
  const events: ExecutionEvent[] = [];
  const summary = await executor.run(prompt, {
    promptId: 'p1',
    ...o,
    onEvent: (e) => {
      events.push(e);
      o.onEvent?.(e);
    },
  });
  return { summary, events };
}

/** Events without their timestamps, which differ between runs. */
export const comparable = (events: ExecutionEvent[]) => events.map((e) => ({ ...e, timestamp: 0 }));

/** Kills its process with SIGSEGV, as a crash in native code (a GPU provider's) does; `value` is its input's type. */
export function segfaultNode(value: InputSpec) {
  return defineNode({
    type: 'Segfault',
    displayName: 'Segfault',
    category: 'test',
    description: 'Kills its process with SIGSEGV.',
    inputs: { value },
    outputs: [],
    outputNode: true,
    async run() {
      process.kill(process.pid, 'SIGSEGV');
      await new Promise(() => undefined);
      return { outputs: [] };
    },
  });
}
