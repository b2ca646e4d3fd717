// Scene -> pixels: the context, then the laid-out parts back to front.
import { type ImageBatch, imageBatch } from '../engine/image.js';
import { drawContext } from './contexts.js';
import { layoutScene } from './layout.js';
import { Canvas } from './raster.js';
import type { Scene } from './scene.js';

/** Renders one scene into a size x size RGB float image (size 32 by default; any size works, 64 included). */
export function renderSceneData(s: Scene, size = 32, supersample = 4): Float32Array {
  const canvas = new Canvas(size, supersample);
  drawContext(canvas, s.context, s.jitter.backgroundTint, s.jitter.detailSeed);
  for (const part of layoutScene(s).parts) canvas.paint(part.region, part.rgb);
  return canvas.data;
}

export function renderScenes(scenes: readonly Scene[], size = 32): ImageBatch {
  const out = imageBatch(scenes.length, size, size, 3);
  scenes.forEach((s, i) => out.data.set(renderSceneData(s, size), i * size * size * 3));
  return out;
}
