// A PNG of image rows, each with a text label on its left (prompts against samples): galleries for the README, the
// evaluation grids, before-and-after comparisons. Text is drawn by sharp's SVG renderer; images are scaled up with
// nearest-neighbour so small samples stay crisp.
import sharp, { type OverlayOptions } from 'sharp';
import { type ImageBatch, imageAt } from './image.js';
import { toUint8 } from './image-io.js';

export interface GridRow {
  label: string;
  images: ImageBatch;
}

export interface LabeledGridOptions {
  /** Pixel size of each cell (images are resized to it). Default 96. */
  cell?: number;
  labelWidth?: number;
  gap?: number;
  /** Column titles above the images (e.g. "base", "DreamBooth", "InstructBooth"). */
  columnTitles?: string[];
  fontSize?: number;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Wraps text into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

export async function labeledGrid(rows: GridRow[], o: LabeledGridOptions = {}): Promise<Buffer> {
  const cell = o.cell ?? 96, gap = o.gap ?? 4, labelWidth = o.labelWidth ?? 240, font = o.fontSize ?? 14;
  const cols = Math.max(1, ...rows.map((r) => r.images.count), o.columnTitles?.length ?? 0);
  const header = o.columnTitles ? font + 2 * gap : 0;
  const width = labelWidth + cols * (cell + gap) + gap;
  const height = header + rows.length * (cell + gap) + gap;
  const layers: OverlayOptions[] = [];
  const texts: string[] = [];
  o.columnTitles?.forEach((t, c) =>
    texts.push(`<text x="${labelWidth + c * (cell + gap) + cell / 2}" y="${gap + font}" text-anchor="middle" font-weight="bold">${escapeXml(t)}</text>`));
  for (const [r, row] of rows.entries()) {
    const top = header + gap + r * (cell + gap);
    const lines = wrap(row.label, Math.max(8, Math.floor(labelWidth / (font * 0.55))));
    const y0 = top + cell / 2 - ((lines.length - 1) * (font + 2)) / 2 + font / 3;
    lines.forEach((l, k) => texts.push(`<text x="${gap}" y="${y0 + k * (font + 2)}">${escapeXml(l)}</text>`));
    for (let c = 0; c < row.images.count; c++) {
      const img = imageAt(row.images, c);
      const input = await sharp(toUint8(img), { raw: { width: img.width, height: img.height, channels: img.channels as 3 | 4 } })
        .resize(cell, cell, { kernel: 'nearest' })
        .png()
        .toBuffer();
      layers.push({ input, left: labelWidth + c * (cell + gap), top });
    }
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><g font-family="sans-serif" font-size="${font}" fill="#222">${texts.join('')}</g></svg>`;
  layers.push({ input: Buffer.from(svg), left: 0, top: 0 });
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } }).composite(layers).png().toBuffer();
}
