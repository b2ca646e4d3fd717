// Editing a text widget in place: a textarea (or input) laid over the widget on screen. Enter (Ctrl+Enter for
// multiline) or leaving the box commits; Escape cancels.
import type { LGraphCanvas, LGraphNode } from '@comfyorg/litegraph';

type Widget = NonNullable<LGraphNode['widgets']>[number];

export function editTextInPlace(canvas: LGraphCanvas, node: LGraphNode, widget: Widget, multiline: boolean, onCommit: () => void): void {
  document.querySelector('.text-editor')?.remove();
  const el = multiline ? document.createElement('textarea') : document.createElement('input');
  el.className = 'text-editor' + (multiline ? ' multiline' : '');
  el.value = String(widget.value ?? '');
  el.setAttribute('aria-label', widget.name);
  el.dataset.widget = widget.name;

  const rect = canvas.canvas.getBoundingClientRect();
  const scale = canvas.ds.scale;
  const [ox, oy] = canvas.ds.offset;
  const height = multiline ? Math.max(((widget as { computedHeight?: number }).computedHeight ?? 64) - 6, 60) : 24;
  const x = rect.left + (node.pos[0] + 15 + ox) * scale;
  const y = rect.top + (node.pos[1] + widget.y + oy) * scale;
  const width = (node.size[0] - 30) * scale;
  Object.assign(el.style, {
    left: `${x}px`,
    top: `${y}px`,
    width: `${Math.max(width, 180)}px`,
    height: `${Math.max(height * scale, multiline ? 90 : 24)}px`,
    fontSize: `${Math.max(11, 12 * scale)}px`,
  });

  let done = false;
  const finish = (commit: boolean) => {
    if (done) return;
    done = true;
    if (commit && el.value !== widget.value) {
      const old = widget.value;
      widget.value = el.value as never;
      widget.callback?.(widget.value, canvas, node, undefined, undefined);
      node.onWidgetChanged?.(widget.name, widget.value, old, widget);
      onCommit();
    }
    el.remove();
    canvas.setDirty(true, true);
    canvas.canvas.focus();
  };
  el.addEventListener('keydown', (e) => {
    const ke = e as KeyboardEvent;
    ke.stopPropagation();
    if (ke.key === 'Escape') finish(false);
    else if (ke.key === 'Enter' && (!multiline || ke.ctrlKey || ke.metaKey)) {
      ke.preventDefault();
      finish(true);
    }
  });
  el.addEventListener('blur', () => finish(true));
  document.body.append(el);
  el.focus();
  if (!multiline) (el as HTMLInputElement).select();
}
