// The editor's view of a node, for the browser tests: its class, title, widgets and slots as plain data.
import type { LGraphNode } from '@comfyorg/litegraph';
import { entryOf } from './node-factory.js';

export function describeNode(node: LGraphNode): unknown {
  return {
    id: node.id,
    type: node.type,
    title: node.title,
    known: !!entryOf(node),
    inputs: node.inputs.map((s) => ({ name: s.name, type: s.type, link: s.link, widget: s.widget?.name })),
    outputs: node.outputs.map((s) => ({ name: s.name, type: s.type, links: s.links })),
    widgets: (node.widgets ?? []).map((w) => ({ name: w.name, type: w.type, value: w.value })),
    pos: [node.pos[0], node.pos[1]],
    size: [node.size[0], node.size[1]],
  };
}
