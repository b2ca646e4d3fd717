// Reading workflows from files (UI JSON, API prompt JSON, PNGs with an embedded workflow) and saving them.
import { readPngText } from './png.js';
import type { Prompt } from '../../src/runtime/graph/prompt.js';
import type { WorkflowGraph } from '../../src/runtime/graph/workflow-to-prompt.js';

export type LoadedFile = { kind: 'workflow'; workflow: WorkflowGraph } | { kind: 'prompt'; prompt: Prompt };

export function isUiWorkflow(v: unknown): v is WorkflowGraph {
  return typeof v === 'object' && v !== null && Array.isArray((v as WorkflowGraph).nodes) && (Array.isArray((v as WorkflowGraph).links) || (v as WorkflowGraph).links === undefined);
}

/** An API prompt: every value an object with a class_type. */
export function isApiPrompt(v: unknown): v is Prompt {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const values = Object.values(v);
  return values.length > 0 && values.every((n) => typeof n === 'object' && n !== null && typeof (n as { class_type?: unknown }).class_type === 'string');
}

/** What a JSON value holds, or an error message. */
export function classifyJson(value: unknown): LoadedFile | { error: string } {
  if (isUiWorkflow(value)) return { kind: 'workflow', workflow: { ...value, links: value.links ?? [] } };
  if (isApiPrompt(value)) return { kind: 'prompt', prompt: value };
  return { error: 'not a workflow: expected a UI workflow (nodes and links) or an API prompt' };
}

export async function readWorkflowFile(file: File): Promise<LoadedFile | { error: string }> {
  const isPng = file.type === 'image/png' || /\.png$/i.test(file.name);
  if (isPng) {
    const text = await readPngText(await file.arrayBuffer());
    for (const key of ['workflow', 'prompt']) {
      if (!text[key]) continue;
      try {
        const loaded = classifyJson(JSON.parse(text[key]));
        if (!('error' in loaded)) return loaded;
      } catch {
        /* try the next chunk */
      }
    }
    return { error: `${file.name} has no embedded workflow` };
  }
  try {
    return classifyJson(JSON.parse(await file.text()));
  } catch (e) {
    return { error: `${file.name} is not valid JSON: ${(e as Error).message}` };
  }
}

export function downloadJson(value: unknown, filename: string): void {
  const blob = new Blob([JSON.stringify(value, null, 2)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** "My workflow" -> "my-workflow.json" */
export function fileNameFor(name: string): string {
  const base = name.replace(/\.json$/i, '').trim().replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'workflow';
  return `${base}.json`;
}

/** "dir/My flow.json" -> "My flow" */
export function workflowNameOf(fileName: string): string {
  return (fileName.split(/[\\/]/).pop() ?? fileName).replace(/\.(json|png)$/i, '') || 'workflow';
}
