// Image files <-> ImageBatch. sharp does the decoding, colour conversion, resizing and encoding; this file adds what
// sharp lacks for us: a pixel-count guard with a readable error, errors that name the file, float conversion, and
// PNG text chunks (ComfyUI embeds the API prompt and the UI workflow in every PNG it saves).
import { stat } from 'node:fs/promises';
import * as zlib from 'node:zlib';
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { type ImageBatch, concatImages, imageAt, imageBatch } from './image.js';

/** ComfyUI's MASK: [count, height, width] float32 in [0, 1]; 1 marks the masked (transparent in the file) pixels. */
export interface MaskBatch {
  count: number;
  height: number;
  width: number;
  data: Float32Array;
}

export function maskBatch(count: number, height: number, width: number, data?: Float32Array): MaskBatch {
  const n = count * height * width;
  const d = data ?? new Float32Array(n);
  if (d.length !== n) throw new Error(`mask data has ${d.length} values, ${count}x${height}x${width} needs ${n}`);
  return { count, height, width, data: d };
}

/** Decompression-bomb guard: a small file can claim a huge canvas; refuse before allocating it. */
export const DEFAULT_MAX_PIXELS = 8192 * 8192;

/** File name extensions of the raster formats sharp reads (used to pick images out of a folder). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.jfif', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif'] as const;

export function isImageFileName(name: string): boolean {
  const lower = name.toLowerCase();
  return !name.startsWith('.') && IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/** An image that could not be read; `file` is the name to show the user. */
export class ImageReadError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`Cannot read image ${file}: ${reason}`);
    this.name = 'ImageReadError';
  }
}

export interface DecodeOptions {
  /** Keep (or add, opaque) an alpha channel: 4 channels instead of 3. */
  alpha?: boolean;
  /** Composite transparent pixels onto this colour (0..255 RGB) instead of dropping alpha. Ignored with `alpha`. */
  background?: readonly [number, number, number];
  /** Resize to cover a size x size square and crop the centre. */
  size?: number;
  /** Every frame of an animated/multi-page file as one batch (frames of another size are skipped, as ComfyUI does). */
  allFrames?: boolean;
  /** Most pixels (width x height x frames) to decode; default DEFAULT_MAX_PIXELS. */
  maxPixels?: number;
  /** The name errors use (default: the path, or "image" for a buffer). */
  name?: string;
}

export interface DecodedImage {
  image: ImageBatch;
  /** Whether the file had an alpha channel (or palette transparency). */
  hasAlpha: boolean;
  /** sharp's format name: png, jpeg, webp, gif, ... */
  format: string;
}

/** Decodes a file or buffer into an ImageBatch (one image, or one per frame with `allFrames`). */
export async function decodeImage(source: string | Buffer, opts: DecodeOptions = {}): Promise<ImageBatch> {
  return (await decodeImageFull(source, opts)).image;
}

/** Decodes with alpha and splits it off as ComfyUI's LoadImage does: mask = 1 - alpha, zeros when there is none. */
export async function decodeImageWithMask(
  source: string | Buffer,
  opts: Omit<DecodeOptions, 'alpha' | 'background'> = {},
): Promise<{ image: ImageBatch; mask: MaskBatch; hasAlpha: boolean }> {
  const d = await decodeImageFull(source, { ...opts, alpha: true });
  // An opaque file got alpha 1 from ensureAlpha, so its mask is zeros of the image's size (ComfyUI's is 64x64 zeros;
  // mask-consuming nodes want the image's size).
  const { rgb, mask } = splitAlpha(d.image);
  return { image: rgb, mask, hasAlpha: d.hasAlpha };
}

export async function decodeImageFull(source: string | Buffer, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const name = opts.name ?? (typeof source === 'string' ? source : 'image');
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (typeof source === 'string') {
    const st = await stat(source).catch(() => undefined);
    if (!st) throw new ImageReadError(name, 'file not found');
    if (!st.isFile()) throw new ImageReadError(name, 'not a file');
  }
  // 'error' rejects truncated and corrupt data but tolerates the harmless warnings many camera JPEGs carry.
  const base = { failOn: 'error', autoOrient: true, limitInputPixels: maxPixels } as const;
  let meta: Metadata;
  try {
    meta = await sharp(source, { ...base, limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ImageReadError(name, sharpReason(e));
  }
  const width = meta.width ?? 0;
  const frameHeight = meta.pageHeight ?? meta.height ?? 0;
  const frames = opts.allFrames ? Math.max(1, meta.pages ?? 1) : 1;
  if (width <= 0 || frameHeight <= 0) throw new ImageReadError(name, 'the file gives no image size');
  const pixels = width * frameHeight * frames;
  if (pixels > maxPixels)
    throw new ImageReadError(
      name,
      `${width}x${frameHeight}${frames > 1 ? `x${frames} frames` : ''} is ${pixels} pixels, over the limit of ${maxPixels} (a decompression-bomb guard)`,
    );

  const channels = opts.alpha ? 4 : 3;
  const decoded: ImageBatch[] = [];
  for (let page = 0; page < frames; page++) {
    let s = sharp(source, { ...base, page }).toColourspace('srgb');
    if (opts.alpha) s = s.ensureAlpha();
    else if (opts.background) s = s.flatten({ background: { r: opts.background[0], g: opts.background[1], b: opts.background[2] } });
    else s = s.removeAlpha(); // ComfyUI's convert("RGB") drops alpha without compositing
    if (opts.size !== undefined) s = s.resize(opts.size, opts.size, { fit: 'cover', position: 'centre', kernel: 'lanczos3' });
    let out: { data: Buffer; info: OutputInfo };
    try {
      out = await s.raw().toBuffer({ resolveWithObject: true });
    } catch (e) {
      throw new ImageReadError(name, sharpReason(e));
    }
    if (out.info.channels !== channels) throw new ImageReadError(name, `decoded to ${out.info.channels} channels, expected ${channels}`);
    const img = fromUint8(out.data, out.info.width, out.info.height, channels);
    if (decoded.length > 0 && (img.width !== decoded[0].width || img.height !== decoded[0].height)) continue;
    decoded.push(img);
  }
  const image = decoded.length === 1 ? decoded[0] : concatImages(decoded);
  return { image, hasAlpha: !!meta.hasAlpha, format: meta.format ?? 'unknown' };
}

/** Resizes every image to cover a size x size square and crops the centre (lanczos3), as decodeImage's `size` does. */
export async function resizeToSquare(images: ImageBatch, size: number): Promise<ImageBatch> {
  const out: ImageBatch[] = [];
  for (let i = 0; i < images.count; i++) {
    const img = imageAt(images, i);
    const { data, info } = await sharp(toUint8(img), { raw: { width: img.width, height: img.height, channels: img.channels as 3 | 4 } })
      .resize(size, size, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    out.push(fromUint8(data, info.width, info.height, info.channels));
  }
  return out.length === 1 ? out[0] : concatImages(out);
}

/** RGBA -> RGB image and mask = 1 - alpha. An RGB batch gives a zero mask. */
export function splitAlpha(images: ImageBatch): { rgb: ImageBatch; mask: MaskBatch } {
  const { count, height, width, channels, data } = images;
  const mask = maskBatch(count, height, width);
  if (channels === 3) return { rgb: images, mask };
  if (channels !== 4) throw new Error(`expected 3 or 4 channels, got ${channels}`);
  const rgb = imageBatch(count, height, width, 3);
  for (let p = 0, n = count * height * width; p < n; p++) {
    rgb.data[p * 3] = data[p * 4];
    rgb.data[p * 3 + 1] = data[p * 4 + 1];
    rgb.data[p * 3 + 2] = data[p * 4 + 2];
    mask.data[p] = 1 - data[p * 4 + 3];
  }
  return { rgb, mask };
}

/** One image of a batch as 8-bit interleaved pixels (rounded, clamped; NaN becomes 0). */
export function toUint8(images: ImageBatch, index = 0): Buffer {
  const img = imageAt(images, index);
  const out = Buffer.allocUnsafe(img.data.length);
  for (let i = 0; i < img.data.length; i++) {
    const v = Math.round(img.data[i] * 255);
    out[i] = v > 255 ? 255 : v >= 0 ? v : 0;
  }
  return out;
}

export function fromUint8(data: Uint8Array, width: number, height: number, channels: number): ImageBatch {
  const out = imageBatch(1, height, width, channels);
  for (let i = 0; i < data.length; i++) out.data[i] = data[i] / 255;
  return out;
}

function sharpReason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  // libvips repeats its warnings; one copy of each line reads better.
  const lines = [...new Set(msg.split('\n').map((l) => l.replace(/^Input (buffer|file) has corrupt header:\s*/i, '').trim()).filter(Boolean))];
  if (lines.some((l) => /unsupported image format/i.test(l))) return 'not an image in a format sharp reads';
  // What libvips says after a failed load ("libpng read error") rarely tells a user more than this.
  return `corrupt or truncated image data${lines.length ? ` (${lines.join('; ')})` : ''}`;
}

function sharpRaw(images: ImageBatch, index: number): Sharp {
  if (images.channels !== 3 && images.channels !== 4) throw new Error(`cannot encode a ${images.channels}-channel image`);
  if (index < 0 || index >= images.count) throw new Error(`image ${index} is out of range of a batch of ${images.count}`);
  return sharp(toUint8(images, index), { raw: { width: images.width, height: images.height, channels: images.channels } });
}

export interface PngOptions {
  /** Which image of the batch (default 0). */
  index?: number;
  /** zlib level 0..9; ComfyUI saves at 4 and previews at 1. */
  compressionLevel?: number;
  /** Text chunks to embed, keyword -> text (tEXt when Latin-1, else iTXt UTF-8). */
  text?: Record<string, string>;
}

export async function encodePng(images: ImageBatch, opts: PngOptions = {}): Promise<Buffer> {
  const png = await sharpRaw(images, opts.index ?? 0)
    .png({ compressionLevel: opts.compressionLevel ?? 6 })
    .toBuffer();
  return opts.text && Object.keys(opts.text).length > 0 ? insertPngText(png, opts.text) : png;
}

/** Lossy encodings for previews (smaller over a websocket). */
export async function encodeJpeg(images: ImageBatch, opts: { index?: number; quality?: number } = {}): Promise<Buffer> {
  return sharpRaw(images, opts.index ?? 0)
    .flatten() // JPEG has no alpha
    .jpeg({ quality: opts.quality ?? 90 })
    .toBuffer();
}

export async function encodeWebp(images: ImageBatch, opts: { index?: number; quality?: number; lossless?: boolean } = {}): Promise<Buffer> {
  return sharpRaw(images, opts.index ?? 0)
    .webp({ quality: opts.quality ?? 90, lossless: opts.lossless ?? false })
    .toBuffer();
}

// ---- PNG text chunks ----------------------------------------------------------------------------------------------

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// node:zlib gained crc32 in Node 20.15; the table version covers older Node 20 releases.
const crc32: (data: Uint8Array) => number = (zlib as { crc32?: (d: Uint8Array) => number }).crc32 ?? tableCrc32;

let crcTable: Uint32Array | undefined;
/** CRC-32 (the PNG/zlib polynomial) by table; the fallback when node:zlib has no crc32. */
export function tableCrc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const isLatin1 = (s: string) => !/[^\u0000-\u00ff]/.test(s);

function textChunk(keyword: string, text: string): Buffer {
  // PNG keywords: 1-79 printable Latin-1 characters, no leading, trailing or double spaces.
  if (!/^[\x20-\x7e\xa1-\xff]{1,79}$/.test(keyword) || /^ | $| {2}/.test(keyword)) throw new Error(`invalid PNG text keyword ${JSON.stringify(keyword)}`);
  const key = Buffer.from(keyword, 'latin1');
  if (isLatin1(text) && !text.includes('\0')) return pngChunk('tEXt', Buffer.concat([key, Buffer.from([0]), Buffer.from(text, 'latin1')]));
  // iTXt: keyword \0 compression-flag method language \0 translated-keyword \0 UTF-8 text.
  return pngChunk('iTXt', Buffer.concat([key, Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, 'utf8')]));
}

/** Inserts text chunks right after IHDR (where PIL, hence ComfyUI, writes them, so readers that stop early see them). */
export function insertPngText(png: Buffer, text: Record<string, string>): Buffer {
  if (png.length < 33 || !png.subarray(0, 8).equals(PNG_SIGNATURE) || png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG');
  const ihdrEnd = 8 + 12 + png.readUInt32BE(8);
  const chunks = Object.entries(text).map(([k, v]) => textChunk(k, v));
  return Buffer.concat([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)]);
}

/** The tEXt, zTXt and iTXt entries of a PNG, keyword -> text (the first of a repeated keyword wins). */
export function readPngText(png: Uint8Array): Record<string, string> {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (buf.length < 8 || !buf.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG');
  const out: Record<string, string> = {};
  let off = 8;
  while (off + 12 <= buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    if (off + 12 + len > buf.length) break; // truncated: return what was read
    const data = buf.subarray(off + 8, off + 8 + len);
    off += 12 + len;
    if (type === 'IEND') break;
    if (type !== 'tEXt' && type !== 'zTXt' && type !== 'iTXt') continue;
    const nul = data.indexOf(0);
    if (nul < 1) continue;
    const key = data.toString('latin1', 0, nul);
    let value: string | undefined;
    try {
      if (type === 'tEXt') value = data.toString('latin1', nul + 1);
      else if (type === 'zTXt') value = zlib.inflateSync(data.subarray(nul + 2)).toString('latin1');
      else {
        const compressed = data[nul + 1] === 1;
        const langEnd = data.indexOf(0, nul + 3);
        const transEnd = langEnd < 0 ? -1 : data.indexOf(0, langEnd + 1);
        if (transEnd < 0) continue;
        const body = data.subarray(transEnd + 1);
        value = (compressed ? zlib.inflateSync(body) : body).toString('utf8');
      }
    } catch {
      continue; // a damaged text chunk is not worth failing the read over
    }
    if (!(key in out)) out[key] = value;
  }
  return out;
}

/** JSON with non-ASCII escaped (like Python's json.dumps), so it always fits a Latin-1 tEXt chunk as ComfyUI writes. */
export function asciiJson(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
