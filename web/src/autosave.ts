// The graph survives reloads, as in ComfyUI: saved to localStorage whenever it changes, restored at start.
import type { LGraph } from '@comfyorg/litegraph';
import type { WorkflowGraph } from '../../src/runtime/graph/workflow-to-prompt.js';
import type { UiWorkflowJsonV04 } from '../../src/runtime/graph/workflow-ui.js';

const STORAGE_KEY = 'instructbooth.workflow';

/** Loads the saved graph through `load`; false when there is none or it cannot be read. */
export function restoreSaved(load: (workflow: WorkflowGraph, name: string) => boolean): boolean {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (!saved) return false;
  try {
    const { workflow, name } = JSON.parse(saved) as { workflow: WorkflowGraph; name: string };
    return load(workflow, name);
  } catch {
    /* a bad saved graph is ignored */
    return false;
  }
}

/** Saves the graph each second it has changed. */
export function keepSaved(graph: LGraph, current: () => { workflow: UiWorkflowJsonV04; name: string }): void {
  let version = -1;
  setInterval(() => {
    const v = (graph as unknown as { _version: number })._version;
    if (v === version) return;
    version = v;
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(current()));
    } catch {
      /* storage full: not worth bothering the user */
    }
  }, 1000);
}
