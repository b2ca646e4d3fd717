// A small PNG writer for test images: RGBA pixels, optional tEXt chunks (how a workflow is embedded in a PNG).
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export function encodePng(width: number, height: number, rgba: Uint8Array, text: Record<string, string> = {}): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) Buffer.from(rgba.subarray(y * width * 4, (y + 1) * width * 4)).copy(raw, y * (width * 4 + 1) + 1);
  const texts = Object.entries(text).map(([k, v]) => chunk('tEXt', Buffer.concat([Buffer.from(k, 'latin1'), Buffer.from([0]), Buffer.from(v, 'utf8')])));
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    ...texts,
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** A recognisable test picture: a sky-to-ground gradient with a sun whose colour is set by `hue` (0..360). */
export function testPicture(size: number, hue: number, text?: Record<string, string>): Buffer {
  const px = new Uint8Array(size * size * 4);
  const [sr, sg, sb] = hsl(hue, 0.8, 0.6);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      const t = y / size;
      let [r, g, b] = t < 0.62 ? [40 + 90 * t, 70 + 110 * t, 140 + 100 * t] : [50 + 40 * t, 110 - 30 * t, 60];
      const dx = x - size * 0.62;
      const dy = y - size * 0.36;
      const d = Math.sqrt(dx * dx + dy * dy) / size;
      if (d < 0.16) [r, g, b] = [sr, sg, sb];
      else if (d < 0.2) {
        const a = (0.2 - d) / 0.04;
        [r, g, b] = [r + (sr - r) * a * 0.5, g + (sg - g) * a * 0.5, b + (sb - b) * a * 0.5];
      }
      px.set([r, g, b, 255], i);
    }
  return encodePng(size, size, px, text);
}

function hsl(h: number, s: number, l: number): [number, number, number] {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}
