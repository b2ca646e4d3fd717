// An API prompt (a file with no layout) laid out as a graph: a node per entry with its widget values, its links
// connected, then litegraph's automatic arrangement.
import { type LGraph, type LGraphNode, LiteGraph } from '@comfyorg/litegraph';
import type { Prompt } from '../../src/runtime/graph/prompt.js';
import { toast } from './toast.js';

/** Adds the prompt's nodes to `graph` (an unknown type is reported and left out). */
export function layOutApiPrompt(graph: LGraph, prompt: Prompt): void {
  const nodes = new Map<string, LGraphNode>();
  for (const [id, p] of Object.entries(prompt)) {
    const node = LiteGraph.createNode(p.class_type);
    if (!node) {
      toast(`Unknown node type ${p.class_type}`, 'error');
      continue;
    }
    if (/^\d+$/.test(id)) node.id = Number(id);
    if (p._meta?.title) node.title = p._meta.title;
    graph.add(node);
    nodes.set(id, node);
    for (const w of node.widgets ?? []) {
      const v = p.inputs[w.name];
      if (v !== undefined && !Array.isArray(v)) w.value = ((v as { __value__?: unknown })?.__value__ ?? v) as never;
    }
  }
  for (const [id, p] of Object.entries(prompt)) {
    const target = nodes.get(id);
    if (!target) continue;
    for (const [input, v] of Object.entries(p.inputs)) {
      if (!Array.isArray(v) || v.length !== 2) continue;
      const source = nodes.get(String(v[0]));
      const slot = target.inputs.findIndex((s) => s.name === input || s.widget?.name === input);
      if (source && slot >= 0) source.connect(Number(v[1]), target, slot);
    }
  }
  graph.arrange(80);
}
