// Frontend-only nodes, as in ComfyUI: never sent to the server (the conversion to a prompt follows or drops them).
// Reroute passes a link through; Note holds text; PrimitiveNode holds one value that feeds widget inputs.
import { LGraphNode, LiteGraph, TitleMode } from '@comfyorg/litegraph';

type ISerialisedNode = Parameters<LGraphNode['configure']>[0];
type ConnectInput = Parameters<NonNullable<LGraphNode['onConnectOutput']>>[2];
import { entryOf } from './node-factory.js';
import { inputsOf } from '../../src/runtime/graph/input-schema.js';
import { type WidgetEnv, addInputWidgets, addMultilineWidget } from './widgets.js';

class RerouteNode extends LGraphNode {
  static override title = 'Reroute';
  static title_mode = TitleMode.NO_TITLE;
  static collapsable = false;
  constructor(title?: string) {
    super(title ?? 'Reroute', 'Reroute');
    this.isVirtualNode = true;
    this.addInput('', '*');
    this.addOutput('', '*');
    this.size = [75, 26];
    this.resizable = false;
  }

  override onConnectionsChange(): void {
    // Show the type that flows through.
    const link = this.inputs[0]?.link != null ? this.graph?.getLink(this.inputs[0].link) : undefined;
    const type = link?.type && link.type !== '*' ? link.type : '*';
    if (this.outputs[0]) this.outputs[0].type = type;
  }
}

function noteClass(type: string, env: WidgetEnv): typeof LGraphNode {
  return class NoteNode extends LGraphNode {
    static override title = type === 'MarkdownNote' ? 'Markdown Note' : 'Note';
    constructor(title?: string) {
      super(title ?? NoteNode.title, type);
      this.isVirtualNode = true;
      this.serialize_widgets = true;
      this.color = '#432';
      this.bgcolor = '#653';
      addMultilineWidget(this, 'text', '', 'Write a note…', env);
      this.size = [320, 120];
    }
  };
}

/** Holds a value for widget inputs: takes the kind, range and value of the first widget it is linked to. */
function primitiveClass(env: WidgetEnv): typeof LGraphNode {
  return class PrimitiveNode extends LGraphNode {
    static override title = 'Primitive';
    private storedValues?: unknown[];

    constructor(title?: string) {
      super(title ?? 'Primitive', 'PrimitiveNode');
      this.isVirtualNode = true;
      this.serialize_widgets = true;
      this.addOutput('connect to widget input', '*');
      this.size = [260, 60];
    }

    override onConnectOutput(_slot: number, _type: unknown, input: ConnectInput): boolean {
      // Only widget sockets take a primitive.
      return !!input && 'widget' in input && !!(input as { widget?: unknown }).widget;
    }

    override onConnectionsChange(): void {
      this.adoptTarget();
    }

    override configure(info: ISerialisedNode): void {
      super.configure(info);
      if (Array.isArray(info.widgets_values)) this.storedValues = info.widgets_values as unknown[];
    }

    override onSerialize(o: ISerialisedNode): void {
      if (!this.widgets?.length && this.storedValues) o.widgets_values = this.storedValues as never;
    }

    /** Called once the whole graph is loaded: links are known, the widget can be built. */
    onAfterGraphConfigured(): void {
      this.adoptTarget();
    }

    private adoptTarget(): void {
      if (this.widgets?.length || !this.graph) return;
      const linkId = this.outputs[0]?.links?.[0];
      const link = linkId != null ? this.graph.getLink(linkId) : undefined;
      const target = link ? this.graph.getNodeById(link.target_id) : null;
      const slot = target && link ? target.inputs[link.target_slot] : undefined;
      const name = slot?.widget?.name;
      const entry = target ? entryOf(target) : undefined;
      const input = entry && name ? inputsOf(entry).find((i) => i.name === name) : undefined;
      if (!target || !input) return;
      addInputWidgets(this, { ...input, name: 'value' }, env);
      const targetWidget = target.widgets?.find((w) => w.name === name);
      const values = this.storedValues ?? (targetWidget ? [targetWidget.value] : []);
      this.widgets?.forEach((w, i) => {
        if (i < values.length && values[i] !== undefined) w.value = values[i] as never;
      });
      this.outputs[0].type = input.type;
      this.outputs[0].name = input.type;
      (this.outputs[0] as { widget?: { name: string } }).widget = { name: name! };
      this.title = name!;
      const [w, h] = this.computeSize();
      this.size = [Math.max(w, 240), h];
    }
  };
}

export function registerFrontendNodes(env: WidgetEnv): void {
  LiteGraph.registerNodeType('Reroute', RerouteNode);
  LiteGraph.registerNodeType('Note', noteClass('Note', env));
  LiteGraph.registerNodeType('MarkdownNote', noteClass('MarkdownNote', env));
  LiteGraph.registerNodeType('PrimitiveNode', primitiveClass(env));
}

export const FRONTEND_NODE_TYPES: { type: string; title: string; description: string }[] = [
  { type: 'Reroute', title: 'Reroute', description: 'Passes a link through, to tidy wires' },
  { type: 'Note', title: 'Note', description: 'A text note on the canvas' },
  { type: 'PrimitiveNode', title: 'Primitive', description: 'One value that feeds widget inputs' },
];
