// A small line chart as PNG (reward curves over epochs, for the demo and DDPOUpdate's output), drawn as SVG and
// rasterized by sharp: no charting dependency on the server side.
import sharp from 'sharp';
import type { ImageBatch } from './image.js';
import { fromUint8 } from './image-io.js';

export interface Series {
  name: string;
  values: number[];
  /** Error band half-width per point (e.g. the reward std), optional. */
  band?: number[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function lineChartSvg(series: Series[], o: { title?: string; xLabel?: string; yLabel?: string; width?: number; height?: number } = {}): string {
  const W = o.width ?? 640, H = o.height ?? 360, L = 60, R = 150, T = 36, B = 44;
  const all = series.flatMap((s) => s.values.flatMap((v, i) => [v - (s.band?.[i] ?? 0), v + (s.band?.[i] ?? 0)])).filter(Number.isFinite);
  let lo = Math.min(...all), hi = Math.max(...all);
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-9) [lo, hi] = [lo - 0.5, hi + 0.5];
  const n = Math.max(2, ...series.map((s) => s.values.length));
  const x = (i: number) => L + (i / (n - 1)) * (W - L - R);
  const y = (v: number) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const parts: string[] = [`<rect width="${W}" height="${H}" fill="white"/>`];
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`);
  }
  for (let i = 0; i < n; i += Math.max(1, Math.ceil(n / 10))) parts.push(`<text x="${x(i)}" y="${H - B + 16}" text-anchor="middle">${i + 1}</text>`);
  series.forEach((s, k) => {
    const c = COLORS[k % COLORS.length];
    if (s.band) {
      const up = s.values.map((v, i) => `${x(i)},${y(v + s.band![i])}`);
      const down = s.values.map((v, i) => `${x(i)},${y(v - s.band![i])}`).reverse();
      parts.push(`<polygon points="${[...up, ...down].join(' ')}" fill="${c}" opacity="0.15"/>`);
    }
    parts.push(`<polyline points="${s.values.map((v, i) => `${x(i)},${y(v)}`).join(' ')}" fill="none" stroke="${c}" stroke-width="2"/>`);
    parts.push(`<rect x="${W - R + 12}" y="${T + k * 20 - 9}" width="12" height="3" fill="${c}"/><text x="${W - R + 30}" y="${T + k * 20}">${esc(s.name)}</text>`);
  });
  if (o.title) parts.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-weight="bold">${esc(o.title)}</text>`);
  if (o.xLabel) parts.push(`<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  if (o.yLabel) parts.push(`<text x="14" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(T + H - B) / 2})">${esc(o.yLabel)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><g font-family="sans-serif" font-size="12" fill="#222">${parts.join('')}</g></svg>`;
}

export async function lineChartPng(series: Series[], o: Parameters<typeof lineChartSvg>[1] = {}): Promise<Buffer> {
  return sharp(Buffer.from(lineChartSvg(series, o))).png().toBuffer();
}

export async function lineChartImage(series: Series[], o: Parameters<typeof lineChartSvg>[1] = {}): Promise<ImageBatch> {
  const { data, info } = await sharp(Buffer.from(lineChartSvg(series, o))).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return fromUint8(data, info.width, info.height, info.channels);
}
