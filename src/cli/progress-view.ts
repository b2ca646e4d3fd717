// How `instructbooth run` shows a run: a live bar per node on a terminal, plain lines in a pipe, JSON lines with --json.
import type { ExecutionEvent } from '../runtime/graph/events.js';
import type { Prompt } from '../runtime/graph/prompt.js';
import { titleOf } from '../runtime/graph/prompt.js';

export type View = (e: ExecutionEvent) => void;

const METRIC_KEYS = ['loss', 'reward_mean', 'reward_std', 'lr'];

function metricText(values: Record<string, number>): string {
  return METRIC_KEYS.filter((k) => values[k] !== undefined).map((k) => `${k} ${fmt(values[k])}`).join('  ');
}

function fmt(v: number): string {
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toFixed(4) : v.toExponential(3);
}

/**
 * "value/max" in whole numbers: a node may report fractions (PriorClassGen counts images by denoising step, 6.4 of
 * 64), which read as counts only when whole: done items round down, the total to the nearest.
 */
export function countText(value: number, max: number): string {
  const total = Math.round(max);
  return `${value >= max ? total : Math.floor(value)}/${total}`;
}

/** JSON lines: every event as one object (previews as their size only). */
export function jsonView(write: (s: string) => void): View {
  return (e) => {
    const out = e.type === 'preview' ? { ...e, image: { count: e.image.count, width: e.image.width, height: e.image.height } } : e;
    write(`${JSON.stringify(out)}\n`);
  };
}

/** Plain lines for logs and pipes: node starts and ends, progress every 10%, metrics as they come. */
export function plainView(prompt: Prompt, write: (s: string) => void): View {
  let lastDecile = -1;
  return (e) => {
    const name = (id: string) => `${titleOf(prompt, id)} (${id})`;
    switch (e.type) {
      case 'execution_cached': if (e.nodes.length) write(`cached: ${e.nodes.map(name).join(', ')}\n`); break;
      case 'executing': if (e.node) { lastDecile = -1; write(`running ${name(e.node)}\n`); } break;
      case 'progress': {
        const d = Math.floor((10 * e.value) / Math.max(1, e.max));
        if (d !== lastDecile) { lastDecile = d; write(`  ${name(e.node)} ${countText(e.value, e.max)}${e.text ? `  ${e.text}` : ''}\n`); }
        break;
      }
      case 'metrics': write(`  ${name(e.node)} step ${e.step}  ${metricText(e.values)}\n`); break;
      case 'log': if (e.level !== 'debug') write(`  ${name(e.node)} ${e.level}: ${e.message}\n`); break;
      case 'executed': for (const img of (e.output.images ?? []) as { filename: string; subfolder: string }[]) write(`  wrote ${img.subfolder ? `${img.subfolder}/` : ''}${img.filename}\n`); break;
      default: break;
    }
  };
}

/** A terminal: the running node's bar redrawn in place, with its latest metrics; finished nodes scroll up. */
export function ttyView(prompt: Prompt, write: (s: string) => void, width = 30): View {
  let current: string | null = null;
  let bar = { value: 0, max: 1, text: '' };
  let metrics = '';
  const started = new Map<string, number>();
  const draw = () => {
    if (!current) return;
    const frac = Math.min(1, bar.value / Math.max(1, bar.max));
    const filled = Math.round(frac * width);
    const line = `${titleOf(prompt, current)} (${current}) [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${countText(bar.value, bar.max)}  ${metrics || bar.text}`;
    write(`\r\x1b[2K${line}`);
  };
  const finish = () => {
    if (!current) return;
    const secs = ((performance.now() - (started.get(current) ?? performance.now())) / 1000).toFixed(1);
    draw();
    write(`  ${secs}s\n`);
    current = null;
  };
  return (e) => {
    switch (e.type) {
      case 'execution_cached': if (e.nodes.length) write(`cached: ${e.nodes.map((id) => titleOf(prompt, id)).join(', ')}\n`); break;
      case 'executing':
        finish();
        if (e.node) { current = e.node; bar = { value: 0, max: 1, text: '' }; metrics = ''; started.set(e.node, performance.now()); draw(); }
        break;
      case 'progress': if (e.node === current) { bar = { value: e.value, max: e.max, text: e.text ?? '' }; draw(); } break;
      case 'metrics': if (e.node === current) { metrics = metricText(e.values); draw(); } break;
      case 'log': if (e.level === 'warn' || e.level === 'error') { write(`\r\x1b[2K${e.level}: ${e.message}\n`); draw(); } break;
      case 'execution_error': case 'execution_interrupted': case 'execution_success': finish(); break;
      default: break;
    }
  };
}
