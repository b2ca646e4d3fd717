// The editor's side of the conversion: the litegraph graph as a workflow (version 0.4 JSON, as Save writes it) and
// that workflow as the API prompt, by the shared conversion over the /object_info the editor was served.
import type { LGraph } from '@comfyorg/litegraph';
import type { ObjectInfo } from '../../src/runtime/graph/object-info.js';
import { getOwn } from '../../src/runtime/graph/own-keys.js';
import type { Prompt } from '../../src/runtime/graph/prompt.js';
import { workflowToPrompt } from '../../src/runtime/graph/workflow-to-prompt.js';
import type { UiWorkflowJsonV04 } from '../../src/runtime/graph/workflow-ui.js';

export function serializeGraph(graph: LGraph): UiWorkflowJsonV04 {
  return graph.serialize({ sortNodes: true }) as unknown as UiWorkflowJsonV04;
}

export function promptOf(workflow: UiWorkflowJsonV04, objectInfo: ObjectInfo): Prompt {
  return workflowToPrompt(workflow, (type) => getOwn(objectInfo, type));
}
