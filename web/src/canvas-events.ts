// The canvas follows its host's size, and opens the node search where the user asks for a node: a double-click on
// empty canvas, or a link dropped on empty canvas (the new node is then wired to the link's end).
import type { LGraphCanvas, LGraphNode, Point } from '@comfyorg/litegraph';

/** Opens the search at a screen point; the picked node goes to `graphPos`, optionally filtered by socket type. */
export type OpenSearch = (at: { x: number; y: number }, graphPos: Point, filter?: { input?: string; output?: string }, onAdded?: (node: LGraphNode) => void) => void;

interface LinkEnd {
  node: LGraphNode;
  slot: number;
  input?: { type: unknown };
  output?: { type: unknown };
}

interface CanvasEventDetail {
  subType: string;
  originalEvent?: MouseEvent & { canvasX?: number; canvasY?: number };
  linkReleaseContext?: { links: LinkEnd[] };
}

export function followHostSize(canvas: LGraphCanvas): void {
  const host = canvas.canvas.parentElement!;
  new ResizeObserver(() => {
    canvas.resize(host.clientWidth, host.clientHeight);
  }).observe(host);
  canvas.resize(host.clientWidth, host.clientHeight);
}

export function searchOnEmptyCanvas(canvas: LGraphCanvas, openSearch: OpenSearch): void {
  canvas.canvas.addEventListener('litegraph:canvas', (ev) => {
    const detail = (ev as CustomEvent).detail as CanvasEventDetail;
    const e = detail.originalEvent;
    if (!e) return;
    const at = { x: e.clientX, y: e.clientY };
    const graphPos: Point = [e.canvasX ?? 0, e.canvasY ?? 0];
    if (detail.subType === 'empty-double-click') openSearch(at, graphPos);
    else if (detail.subType === 'empty-release') {
      const link = detail.linkReleaseContext?.links?.[0];
      if (!link) return;
      if (link.output) {
        const type = String(link.output.type);
        openSearch(at, graphPos, { input: type }, (node) => link.node.connectByType(link.slot, node, type));
      } else if (link.input) {
        const type = String(link.input.type);
        openSearch(at, graphPos, { output: type }, (node) => {
          node.pos = [graphPos[0] - node.size[0], graphPos[1]];
          link.node.connectByTypeOutput(link.slot, node, type);
        });
      }
    }
  });
}
