// Text chunks of a PNG (tEXt, iTXt, zTXt): where ComfyUI and SaveImage embed "workflow" and "prompt".
const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Keyword -> text for every text chunk; {} when `buffer` is not a PNG. */
export async function readPngText(buffer: ArrayBuffer): Promise<Record<string, string>> {
  const bytes = new Uint8Array(buffer);
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) return {};
  const view = new DataView(buffer);
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8');
  const out: Record<string, string> = {};
  let pos = 8;
  while (pos + 8 <= bytes.length) {
    const length = view.getUint32(pos);
    const type = latin1.decode(bytes.subarray(pos + 4, pos + 8));
    const start = pos + 8;
    const end = start + length;
    if (end > bytes.length) break;
    const data = bytes.subarray(start, end);
    const nul = data.indexOf(0);
    if (nul > 0 && (type === 'tEXt' || type === 'iTXt' || type === 'zTXt')) {
      const key = latin1.decode(data.subarray(0, nul));
      try {
        if (type === 'tEXt') out[key] = utf8.decode(data.subarray(nul + 1));
        else if (type === 'zTXt') out[key] = utf8.decode(await inflate(data.subarray(nul + 2)));
        else {
          // iTXt: keyword\0 compressed(1) method(1) language\0 translated\0 text
          const compressed = data[nul + 1] === 1;
          let p = nul + 3;
          p = data.indexOf(0, p) + 1; // language tag
          p = data.indexOf(0, p) + 1; // translated keyword
          if (p > 0) {
            const text = data.subarray(p);
            out[key] = utf8.decode(compressed ? await inflate(text) : text);
          }
        }
      } catch {
        /* an unreadable chunk is skipped */
      }
    }
    if (type === 'IEND') break;
    pos = end + 4; // skip CRC
  }
  return out;
}
