// Test images made with sharp at test time (no binary fixtures in the repository).
import { writeFile } from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';

export type Rgb = [number, number, number];

export function solid(width: number, height: number, rgb: Rgb, alpha?: number): Sharp {
  const channels = alpha === undefined ? 3 : 4;
  return sharp({ create: { width, height, channels, background: { r: rgb[0], g: rgb[1], b: rgb[2], alpha: alpha ?? 1 } } });
}

/** Vertical stripes left to right, of equal width. */
export function stripes(width: number, height: number, colors: Rgb[]): Sharp {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const c = colors[Math.min(colors.length - 1, Math.floor((x * colors.length) / width))];
      data.set(c, (y * width + x) * 3);
    }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

/** One-channel (true grayscale) image. */
export function gray(width: number, height: number, level: number): Sharp {
  return sharp(Buffer.alloc(width * height, level), { raw: { width, height, channels: 1 } });
}

/** RGBA: the left half fully transparent (black underneath), the right half opaque. */
export function halfTransparent(width: number, height: number, rgb: Rgb): Sharp {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      if (x >= width / 2) data.set([...rgb, 255], o);
    }
  return sharp(data, { raw: { width, height, channels: 4 } });
}

export async function write(file: string, s: Sharp | Buffer | string): Promise<void> {
  await writeFile(file, typeof s === 'string' || Buffer.isBuffer(s) ? s : await s.toBuffer());
}
