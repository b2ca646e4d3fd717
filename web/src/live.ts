// What the running prompt shows on nodes: the running node, progress, errors, images, and a node's latest training
// metrics. One LiveState per editor; nodes read it when they draw.
import type { LGraphNode } from '@comfyorg/litegraph';
import { wrapText } from './widgets.js';

export interface NodeError {
  type: string;
  message: string;
}

export interface NodeLive {
  progress?: { value: number; max: number };
  error?: NodeError;
  images: HTMLImageElement[];
  /** Latest training metrics (loss, reward_mean, ...) and their step. */
  metrics?: { step: number; values: Record<string, number> };
  /** Loss history for the on-node sparkline. */
  lossHistory: number[];
}

export class LiveState {
  private nodes = new Map<string, NodeLive>();
  runningNode: string | null = null;
  promptId: string | null = null;
  private listeners = new Set<() => void>();

  get(id: string | number): NodeLive | undefined {
    return this.nodes.get(String(id));
  }

  ensure(id: string | number): NodeLive {
    const key = String(id);
    let n = this.nodes.get(key);
    if (!n) this.nodes.set(key, (n = { images: [], lossHistory: [] }));
    return n;
  }

  /** Forgets progress, errors and metrics (a new run starts); images stay until replaced, as in ComfyUI. */
  resetRun(): void {
    for (const n of this.nodes.values()) {
      n.progress = undefined;
      n.error = undefined;
      n.metrics = undefined;
      n.lossHistory = [];
    }
    this.runningNode = null;
    this.changed();
  }

  clear(): void {
    this.nodes.clear();
    this.runningNode = null;
    this.promptId = null;
    this.changed();
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  changed(): void {
    for (const l of this.listeners) l();
  }

  /** Plain data for tests and debugging. */
  snapshot(): Record<string, { progress?: { value: number; max: number }; error?: NodeError; images: string[]; metrics?: NodeLive['metrics']; running: boolean }> {
    return Object.fromEntries(
      [...this.nodes].map(([id, n]) => [
        id,
        { progress: n.progress, error: n.error, images: n.images.map((i) => i.src), metrics: n.metrics, running: this.runningNode === id },
      ]),
    );
  }
}

const RUNNING_COLOR = '#4ade80';
const ERROR_COLOR = '#f87171';

/** Adds the "running" outline to a node (litegraph draws strokeStyles around nodes). */
export function installRunningOutline(node: LGraphNode, live: LiveState): void {
  node.strokeStyles.running = function (this: LGraphNode) {
    return live.runningNode === String(this.id) ? { color: RUNNING_COLOR, lineWidth: 3, padding: 6 } : undefined;
  };
}

/** Draws the live decorations under a node: a progress strip, training numbers and a loss sparkline, an error box. */
export function drawLiveDecorations(node: LGraphNode, ctx: CanvasRenderingContext2D, live: LiveState): void {
  const state = live.get(node.id);
  if (!state || node.flags.collapsed) return;
  const width = node.size[0];
  let y = node.size[1] + 8;
  const running = live.runningNode === String(node.id);

  if (state.progress && state.progress.max > 0) {
    const { value, max } = state.progress;
    const frac = Math.max(0, Math.min(1, value / max));
    ctx.save();
    ctx.fillStyle = '#0f1115';
    ctx.strokeStyle = running ? RUNNING_COLOR : '#3a3f4b';
    ctx.beginPath();
    ctx.roundRect(0, y, width, 18, 5);
    ctx.fill();
    ctx.stroke();
    ctx.fillStyle = frac >= 1 ? '#22c55e' : '#16a34a';
    ctx.beginPath();
    ctx.roundRect(1, y + 1, Math.max(0, (width - 2) * frac), 16, 4);
    ctx.fill();
    ctx.fillStyle = '#f8fafc';
    ctx.font = 'bold 11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'center';
    ctx.fillText(`${value} / ${max}  (${Math.round(frac * 100)}%)`, width / 2, y + 9.5);
    ctx.restore();
    y += 24;
  }

  if (state.metrics) {
    const v = state.metrics.values;
    const parts = [`step ${state.metrics.step}`];
    if (v.loss !== undefined) parts.push(`loss ${fmt(v.loss)}`);
    if (v.reward_mean !== undefined) parts.push(`reward ${fmt(v.reward_mean)}${v.reward_std !== undefined ? ` ± ${fmt(v.reward_std)}` : ''}`);
    if (v.lr !== undefined) parts.push(`lr ${v.lr.toExponential(1)}`);
    ctx.save();
    ctx.font = '11px ui-monospace, SFMono-Regular, Menlo, monospace';
    ctx.fillStyle = '#cbd5e1';
    ctx.textBaseline = 'top';
    ctx.textAlign = 'left';
    const lines = wrapText(ctx, parts.join('  ·  '), width - 4);
    lines.forEach((line, i) => ctx.fillText(line, 2, y + i * 15));
    ctx.restore();
    y += 2 + lines.length * 15;
    if (state.lossHistory.length > 1) {
      drawSparkline(ctx, state.lossHistory, 0, y, width, 34);
      y += 40;
    }
  }

  if (state.error) {
    ctx.save();
    ctx.font = '12px system-ui, sans-serif';
    const lines = wrapText(ctx, `${state.error.type}: ${state.error.message}`, width - 16).slice(0, 8);
    const h = 10 + lines.length * 16;
    ctx.fillStyle = 'rgba(127, 29, 29, 0.92)';
    ctx.strokeStyle = ERROR_COLOR;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.roundRect(0, y, width, h, 6);
    ctx.fill();
    ctx.stroke();
    ctx.fillStyle = '#fee2e2';
    ctx.textBaseline = 'top';
    ctx.textAlign = 'left';
    lines.forEach((line, i) => ctx.fillText(line, 8, y + 6 + i * 16));
    ctx.restore();
  }
}

function drawSparkline(ctx: CanvasRenderingContext2D, values: number[], x: number, y: number, w: number, h: number): void {
  const finite = values.filter(Number.isFinite);
  if (finite.length < 2) return;
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const span = hi - lo || 1;
  ctx.save();
  ctx.fillStyle = 'rgba(15, 17, 21, 0.85)';
  ctx.beginPath();
  ctx.roundRect(x, y, w, h, 4);
  ctx.fill();
  ctx.strokeStyle = '#60a5fa';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  values.forEach((v, i) => {
    const px = x + 4 + ((w - 8) * i) / (values.length - 1);
    const py = y + h - 4 - ((h - 8) * ((Number.isFinite(v) ? v : lo) - lo)) / span;
    if (i === 0) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
  });
  ctx.stroke();
  ctx.restore();
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : v.toFixed(4);
}
