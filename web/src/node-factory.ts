// LiteGraph node types built from /object_info: sockets for link inputs and outputs, a widget (with its own input
// socket, so a link can drive it) for every widget input, in ComfyUI's order. Loading keeps the file's slots and
// reads widgets_values by the rules the conversion reads them by.
import { LGraphNode, LiteGraph, RenderShape } from '@comfyorg/litegraph';
import { inputsOf, outputsOf } from '../../src/runtime/graph/input-schema.js';
import type { ObjectInfo, ObjectInfoEntry } from '../../src/runtime/graph/object-info.js';
import { storedWidgets } from '../../src/runtime/graph/widget-values.js';
import { MODE_BYPASS, MODE_MUTED } from '../../src/runtime/graph/workflow-to-prompt.js';
import { type LiveState, drawLiveDecorations, installRunningOutline } from './live.js';
import { CONTROL_WIDGET_NAME, type WidgetEnv, addInputWidgets } from './widgets.js';

type ISerialisedNode = Parameters<LGraphNode['configure']>[0];

export interface NodeFactoryEnv extends WidgetEnv {
  live: LiveState;
}

/** Node types by class, as the factory registered them (for search, and to know a node's class). */
export const schemaOf = new Map<string, ObjectInfoEntry>();

const NODE_MIN_WIDTH = 240;

export function registerSchemaNodes(objectInfo: ObjectInfo, env: NodeFactoryEnv): void {
  for (const [type, entry] of Object.entries(objectInfo)) {
    schemaOf.set(type, entry);
    LiteGraph.registerNodeType(type, schemaNodeClass(type, entry, env));
  }
}

function schemaNodeClass(type: string, entry: ObjectInfoEntry, env: NodeFactoryEnv): typeof LGraphNode {
  const title = entry.display_name || type;
  const inputs = inputsOf(entry);
  const outputs = outputsOf(entry);

  class SchemaNode extends LGraphNode {
    static override title = title;
    static override category = entry.category ?? '';
    static description = entry.description ?? '';

    constructor(nodeTitle?: string) {
      super(nodeTitle ?? title, type);
      this.comfyClass = type;
      this.serialize_widgets = true;
      for (const input of inputs) {
        if (input.widget) continue;
        this.addInput(input.name, input.type, input.optional ? { shape: RenderShape.HollowCircle } : {});
      }
      for (const input of inputs) {
        if (!input.widget) continue;
        addInputWidgets(this, input, env);
        this.addInput(input.name, input.type, { widget: { name: input.name } });
      }
      for (const output of outputs) this.addOutput(output.name, output.type, output.isList ? { shape: RenderShape.GRID } : {});
      const [w, h] = this.computeSize();
      this.size = [Math.max(w, NODE_MIN_WIDTH), h];
      if (entry.output_node) this.color = '#335533';
      installRunningOutline(this, env.live);
    }

    override configure(info: ISerialisedNode): void {
      // The file's slots replace ours whole (litegraph would merge them index by index), and widget values are read
      // here by the rules the conversion reads them by (litegraph would assign them blindly by position).
      if (info.inputs) this.inputs = [];
      const { widgets_values, ...rest } = info;
      super.configure(rest as ISerialisedNode);
      reconcileSlots(this, entry);
      if (widgets_values !== undefined) applyWidgetValues(this, entry, widgets_values as unknown);
    }

    override get renderingBgColor(): string {
      if (this.mode === MODE_BYPASS) return '#3b2447';
      if (this.mode === MODE_MUTED) return '#1d1f24';
      return super.renderingBgColor;
    }

    override onDrawForeground(ctx: CanvasRenderingContext2D): void {
      if (this.mode === MODE_BYPASS || this.mode === MODE_MUTED) drawModeTag(this, ctx, this.mode === MODE_BYPASS ? 'bypassed' : 'muted');
      drawLiveDecorations(this, ctx, env.live);
    }
  }
  return SchemaNode;
}

/** After loading: schema inputs the file lacks (a newer schema, or a file saved without widget sockets) are added
 * at the end, so the file's link slot indices stay valid. */
function reconcileSlots(node: LGraphNode, entry: ObjectInfoEntry): void {
  const has = (name: string) => node.inputs.some((s) => s.name === name || s.widget?.name === name);
  for (const input of inputsOf(entry)) {
    if (has(input.name)) continue;
    if (input.widget) node.addInput(input.name, input.type, { widget: { name: input.name } });
    else node.addInput(input.name, input.type);
  }
}

/** widgets_values read by the shared rules (widget-values.ts), which the conversion reads them by too. */
export function applyWidgetValues(node: LGraphNode, entry: ObjectInfoEntry, wv: unknown): void {
  const widgets = node.widgets ?? [];
  for (const { input, value, control } of storedWidgets(entry, wv)) {
    const w = widgets.find((x) => x.name === input.name);
    if (w) w.value = value as never;
    const controlWidget = control === undefined ? undefined : widgets.find((x) => x.name === CONTROL_WIDGET_NAME && (x as { linkedTo?: string }).linkedTo === input.name);
    if (controlWidget) controlWidget.value = control as never;
  }
}

/** The class an editor node was built from (undefined for frontend-only nodes and unknown types). */
export function entryOf(node: LGraphNode): ObjectInfoEntry | undefined {
  return schemaOf.get(node.type);
}

/** A small tag in the title bar of a muted or bypassed node. */
function drawModeTag(node: LGraphNode, ctx: CanvasRenderingContext2D, text: string): void {
  ctx.save();
  ctx.font = 'bold 10px system-ui, sans-serif';
  const w = ctx.measureText(text).width + 12;
  const x = node.size[0] - w - 8;
  const y = -LiteGraph.NODE_TITLE_HEIGHT + 7;
  ctx.fillStyle = text === 'bypassed' ? '#7c3aed' : '#4b5563';
  ctx.beginPath();
  ctx.roundRect(x, y, w, 16, 8);
  ctx.fill();
  ctx.fillStyle = '#f5f3ff';
  ctx.textBaseline = 'middle';
  ctx.fillText(text, x + 6, y + 8.5);
  ctx.restore();
}
