// Widgets for /object_info inputs: numbers with range and step, combos, toggles, one-line and multiline text, a
// seed's "control after generate" combo, an image-upload button, and the preview area that shows a node's images.
import type { IWidget, LGraphNode } from '@comfyorg/litegraph';
import { nextSeed } from './seed-control.js';
import { CONTROL_VALUES, type InputSchema, UPLOAD_WIDGET_VALUE, defaultOf, hasControlAfterGenerate, hasImageUpload } from '../../src/runtime/graph/input-schema.js';

type Widget = NonNullable<LGraphNode['widgets']>[number];

/** What widgets need from the app: text editing in place and image uploads. */
export interface WidgetEnv {
  editText(node: LGraphNode, widget: Widget, multiline: boolean): void;
  uploadImage(node: LGraphNode, combo: Widget): void;
}

export const CONTROL_WIDGET_NAME = 'control_after_generate';
export const PREVIEW_WIDGET_NAME = '$$preview';

/** Digits worth showing for a step (0.01 -> 2, 1e-7 -> 7). */
function decimalsOf(step: number): number {
  if (!Number.isFinite(step) || step <= 0 || Number.isInteger(step)) return 0;
  const s = step.toExponential();
  const [mantissa, exp] = s.split('e');
  const mantissaDecimals = (mantissa.split('.')[1] ?? '').length;
  return Math.max(0, mantissaDecimals - Number(exp));
}

/** Rounds and clamps a number widget's value the way the server validates it. */
export function clampNumber(input: InputSchema, v: number): number {
  const o = input.options;
  let value = Number.isFinite(v) ? v : Number(defaultOf(input) ?? 0);
  if (input.widget === 'INT') value = Math.round(value);
  else {
    const round = typeof o.round === 'number' && o.round > 0 ? o.round : undefined;
    if (round) value = Math.round(value / round) * round;
    value = Number(value.toFixed(Math.min(12, Math.max(decimalsOf(round ?? o.step ?? 0.01), 2) + 2)));
  }
  if (typeof o.min === 'number' && value < o.min) value = o.min;
  if (typeof o.max === 'number' && value > o.max) value = o.max;
  return value;
}

/** The widgets for one input, in widgets_values order (a seed's control and an upload button follow their input). */
export function addInputWidgets(node: LGraphNode, input: InputSchema, env: WidgetEnv): void {
  const o = input.options;
  const value = defaultOf(input);
  const tooltip = o.tooltip;
  let w: Widget;
  switch (input.widget) {
    case 'INT':
    case 'FLOAT': {
      const isInt = input.widget === 'INT';
      const step = typeof o.step === 'number' && o.step > 0 ? o.step : isInt ? 1 : 0.01;
      const precision = isInt ? 0 : Math.min(10, Math.max(decimalsOf(typeof o.round === 'number' ? o.round : step), 1));
      w = node.addWidget('number', input.name, Number(value ?? 0), null, { min: o.min, max: o.max, step2: step, precision });
      w.callback = (v: unknown) => {
        w.value = clampNumber(input, Number(v));
      };
      break;
    }
    case 'BOOLEAN':
      w = node.addWidget('toggle', input.name, Boolean(value), null, { on: o.label_on ?? 'true', off: o.label_off ?? 'false' });
      break;
    case 'COMBO':
      w = node.addWidget('combo', input.name, (value ?? '') as string, null, { values: input.choices ?? [] });
      break;
    case 'STRING':
      w = o.multiline ? addMultilineWidget(node, input.name, String(value ?? ''), o.placeholder, env) : addTextWidget(node, input.name, String(value ?? ''), env);
      break;
    default:
      return;
  }
  if (tooltip) w.tooltip = tooltip;
  if (hasControlAfterGenerate(input)) {
    // Saved in widgets_values (after the seed), never sent in the prompt: ComfyUI's convention.
    const control = node.addWidget('combo', CONTROL_WIDGET_NAME, 'randomize', null, { values: [...CONTROL_VALUES] });
    (control.options as { serialize?: boolean }).serialize = false;
    (control as Widget & { linkedTo?: string }).linkedTo = input.name;
    control.tooltip = 'What happens to the seed after each queued run';
  }
  if (hasImageUpload(input)) {
    const upload = node.addWidget('button', 'upload', UPLOAD_WIDGET_VALUE, () => env.uploadImage(node, w), {});
    upload.label = 'choose file to upload';
    (upload.options as { serialize?: boolean }).serialize = false;
  }
}

function addTextWidget(node: LGraphNode, name: string, value: string, env: WidgetEnv): Widget {
  const w = node.addWidget('text', name, value, null, {});
  // Our own editor instead of litegraph's prompt: wider, and Escape cancels.
  w.onPointerDown = (pointer) => {
    pointer.onClick = () => env.editText(node, w, false);
    return true;
  };
  return w;
}

/** A multiline text box that grows with the node; a click edits it in place. */
export function addMultilineWidget(node: LGraphNode, name: string, value: string, placeholder: string | undefined, env: WidgetEnv): Widget {
  const widget = {
    type: 'multiline',
    name,
    value,
    y: 0,
    options: { multiline: true },
    computeLayoutSize: () => ({ minHeight: 64, maxHeight: 400, minWidth: 200 }),
    draw(ctx: CanvasRenderingContext2D, n: LGraphNode, width: number, y: number, _h: number, lowQuality?: boolean) {
      const height = (widget as { computedHeight?: number }).computedHeight ?? 64;
      const margin = 15;
      const x = margin;
      const w = width - margin * 2;
      const h = height - 6;
      const disabled = n.getSlotFromWidget(widget as unknown as Widget)?.link != null;
      ctx.save();
      ctx.fillStyle = '#1b1d22';
      ctx.strokeStyle = '#3a3f4b';
      ctx.beginPath();
      ctx.roundRect(x, y, w, h, 6);
      ctx.fill();
      ctx.stroke();
      if (!lowQuality) {
        ctx.beginPath();
        ctx.rect(x + 6, y + 4, w - 12, h - 8);
        ctx.clip();
        ctx.font = '12px ui-monospace, SFMono-Regular, Menlo, monospace';
        ctx.textBaseline = 'top';
        const text = String(widget.value ?? '');
        const empty = text === '';
        ctx.fillStyle = disabled || empty ? '#6b7280' : '#d8dee9';
        const lines = disabled ? [`${name}: from link`] : empty ? [placeholder ?? name] : wrapText(ctx, text, w - 12);
        lines.forEach((line, i) => ctx.fillText(line, x + 6, y + 6 + i * 15));
      }
      ctx.restore();
    },
    onPointerDown(pointer: { onClick?: () => void }) {
      pointer.onClick = () => env.editText(node, widget as unknown as Widget, true);
      return true;
    },
  };
  return node.addCustomWidget(widget as unknown as IWidget) as Widget;
}

/** Lines of `text` wrapped to `width` pixels (hard line breaks kept). */
export function wrapText(ctx: CanvasRenderingContext2D, text: string, width: number): string[] {
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/(\s+)/)) {
      if (line && ctx.measureText(line + word).width > width) {
        out.push(line.trimEnd());
        line = word.trimStart();
      } else line += word;
    }
    out.push(line);
  }
  return out;
}

/** Applies every seed control widget of `node` (after a run is queued). */
export function applySeedControls(node: LGraphNode): void {
  const widgets = node.widgets ?? [];
  for (const control of widgets) {
    const target = (control as Widget & { linkedTo?: string }).linkedTo;
    if (control.name !== CONTROL_WIDGET_NAME || !target) continue;
    const seed = widgets.find((w) => w.name === target);
    if (!seed || node.getSlotFromWidget(seed)?.link != null) continue;
    const { min, max } = seed.options as { min?: number; max?: number };
    seed.value = nextSeed(String(control.value), Number(seed.value), min ?? 0, max);
  }
}

export interface PreviewImages {
  images: HTMLImageElement[];
}

/** The area under a node's widgets where its output or preview images are drawn; added when images arrive. */
export function ensurePreviewWidget(node: LGraphNode, preview: PreviewImages): void {
  if (node.widgets?.some((w) => w.name === PREVIEW_WIDGET_NAME)) return;
  const widget = {
    type: 'preview',
    name: PREVIEW_WIDGET_NAME,
    value: '',
    y: 0,
    serialize: false,
    options: { serialize: false },
    computeLayoutSize: () => ({ minHeight: 150, maxHeight: 2000, minWidth: 150 }),
    draw(ctx: CanvasRenderingContext2D, _n: LGraphNode, width: number, y: number) {
      const height = (widget as { computedHeight?: number }).computedHeight ?? 150;
      drawImageGrid(ctx, preview.images, 10, y + 4, width - 20, height - 8);
    },
  };
  node.addCustomWidget(widget as unknown as IWidget);
  const need = node.computeSize();
  node.setSize([Math.max(node.size[0], need[0]), Math.max(node.size[1], need[1])]);
}

/** Images laid out in the best grid for the area, each fitted and centred. */
function drawImageGrid(ctx: CanvasRenderingContext2D, images: HTMLImageElement[], x: number, y: number, w: number, h: number): void {
  const ready = images.filter((i) => i.complete && i.naturalWidth > 0);
  if (!ready.length || w <= 0 || h <= 0) return;
  const n = ready.length;
  let best = { cols: 1, rows: n, cell: 0 };
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const aspect = ready[0].naturalWidth / ready[0].naturalHeight;
    const cw = w / cols;
    const ch = h / rows;
    const cell = Math.min(cw, ch * aspect) * Math.min(ch, cw / aspect);
    if (cell > best.cell) best = { cols, rows, cell };
  }
  const cw = w / best.cols;
  const ch = h / best.rows;
  ready.forEach((img, i) => {
    const scale = Math.min((cw - 4) / img.naturalWidth, (ch - 4) / img.naturalHeight);
    const iw = img.naturalWidth * scale;
    const ih = img.naturalHeight * scale;
    const cx = x + (i % best.cols) * cw + (cw - iw) / 2;
    const cy = y + Math.floor(i / best.cols) * ch + (ch - ih) / 2;
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(img, cx, cy, iw, ih);
  });
}
