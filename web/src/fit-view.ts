// Fitting the view: every node in sight, not zoomed in past 1:1 nor out past 40% (where text stays drawn).
import { type LGraph, type LGraphCanvas, LiteGraph } from '@comfyorg/litegraph';

export function fitView(canvas: LGraphCanvas, graph: LGraph): void {
  const nodes = graph.nodes;
  const el = canvas.canvas;
  if (!nodes.length || !el.width) {
    canvas.ds.scale = 1;
    canvas.ds.offset = [0, 0];
    canvas.setDirty(true, true);
    return;
  }
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const n of nodes) {
    x0 = Math.min(x0, n.pos[0]);
    y0 = Math.min(y0, n.pos[1] - LiteGraph.NODE_TITLE_HEIGHT);
    x1 = Math.max(x1, n.pos[0] + n.size[0]);
    y1 = Math.max(y1, n.pos[1] + n.size[1] + 60); // room for progress and errors under nodes
  }
  const margin = 40;
  const scale = Math.min(1, (el.width - 2 * margin) / (x1 - x0), (el.height - 2 * margin) / (y1 - y0));
  canvas.ds.scale = Math.max(0.4, scale);
  const s = canvas.ds.scale;
  canvas.ds.offset = [(el.width / s - (x1 - x0)) / 2 - x0, Math.max(margin / s, (el.height / s - (y1 - y0)) / 2) - y0];
  canvas.setDirty(true, true);
}
