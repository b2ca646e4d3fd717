// ComfyUI's binary WebSocket frames: a u32 big-endian event type, then the payload.
//   1 preview image:                u32 image type (1 JPEG, 2 PNG) + image bytes
//   3 progress text:                u32 node-id length + node id (UTF-8) + text (UTF-8)
//   4 preview image with metadata:  u32 JSON length + JSON {node_id, prompt_id, display_node_id, parent_node_id,
//                                   real_node_id, image_type} + image bytes (for clients that said
//                                   supports_preview_metadata in their feature_flags)
import sharp from 'sharp';
import type { ImageBatch } from '../runtime/engine/image.js';
import { toUint8 } from '../runtime/engine/image-io.js';

export const FRAME_PREVIEW = 1;
export const FRAME_TEXT = 3;
export const FRAME_PREVIEW_WITH_METADATA = 4;
export const IMAGE_TYPE_JPEG = 1;
export const IMAGE_TYPE_PNG = 2;

/** Previews are sent at most this many pixels on a side (ComfyUI's default preview size). */
export const PREVIEW_MAX_SIZE = 512;

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** The first image of a batch as a JPEG no larger than `maxSize` on a side. */
export async function encodePreview(image: ImageBatch, maxSize = PREVIEW_MAX_SIZE): Promise<Buffer> {
  if (image.channels !== 3 && image.channels !== 4) throw new Error(`cannot preview a ${image.channels}-channel image`);
  let s = sharp(toUint8(image, 0), { raw: { width: image.width, height: image.height, channels: image.channels } });
  if (image.width > maxSize || image.height > maxSize) s = s.resize(maxSize, maxSize, { fit: 'inside' });
  return s.flatten().jpeg({ quality: 90 }).toBuffer();
}

export function previewFrame(jpeg: Buffer): Buffer {
  return Buffer.concat([u32(FRAME_PREVIEW), u32(IMAGE_TYPE_JPEG), jpeg]);
}

export function previewFrameWithMetadata(jpeg: Buffer, promptId: string, node: string): Buffer {
  const meta = Buffer.from(
    JSON.stringify({ node_id: node, prompt_id: promptId, display_node_id: node, parent_node_id: null, real_node_id: node, image_type: 'image/jpeg' }),
    'utf8',
  );
  return Buffer.concat([u32(FRAME_PREVIEW_WITH_METADATA), u32(meta.length), meta, jpeg]);
}

export function progressTextFrame(node: string, text: string): Buffer {
  const id = Buffer.from(node, 'utf8');
  return Buffer.concat([u32(FRAME_TEXT), u32(id.length), id, Buffer.from(text, 'utf8')]);
}
