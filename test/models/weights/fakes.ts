// Small stand-ins for users' checkpoints: SD1.x's structure and real key names at tiny widths (the cross-attention
// width stays 768, which is how SD1.x is recognized), written into a temporary folder.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/runtime/onnx/random.js';
import type { HostTensor } from '../../../src/runtime/onnx/tensor.js';
import { componentShapes, type ComponentName, type SdLayout, SD15 } from '../../../src/runtime/models/weights/sd15-layout.js';

export const TINY: SdLayout = {
  unet: { ...SD15.unet, blockOutChannels: [4, 8, 8, 8] },
  vae: { ...SD15.vae, blockOutChannels: [4, 8, 8, 8] },
  text_encoder: { vocabSize: 16, hiddenSize: 8, layers: 2, intermediateSize: 16, maxPositions: 7 },
};

export const tinyShapes = (c: ComponentName) => componentShapes(c, TINY);

export function randomWeights(c: ComponentName, seed = 1, layout: SdLayout = TINY): Map<string, HostTensor> {
  const rng = new Rng(seed);
  const out = new Map<string, HostTensor>();
  for (const [name, shape] of componentShapes(c, layout)) {
    const data = rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)));
    out.set(name, { dtype: 'float32', shape: [...shape], data });
  }
  return out;
}

export const tinyModel = (seed = 1) => ({
  unet: randomWeights('unet', seed),
  vae: randomWeights('vae', seed + 1),
  text_encoder: randomWeights('text_encoder', seed + 2),
});

export function tempDir(tag: string): { dir: string; file: (name: string) => string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `instructbooth-${tag}-`));
  let n = 0;
  return {
    dir,
    file: (name) => path.join(dir, `${n++}-${name}`),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export function assertSameWeights(got: Map<string, HostTensor>, want: Map<string, HostTensor>, what = ''): void {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `${what}: same names`);
  for (const [name, t] of want) {
    const g = got.get(name)!;
    assert.equal(g.dtype, 'float32', `${what} ${name} dtype`);
    assert.deepEqual(g.shape, t.shape, `${what} ${name} shape`);
    assert.ok(g.data instanceof Float32Array, `${what} ${name} is a Float32Array`);
    assert.deepEqual(g.data, t.data, `${what} ${name} values`);
  }
}

/** Values as they come back from a 16-bit file. */
export function rounded(w: Map<string, HostTensor>, to: (f: Float32Array) => Float32Array): Map<string, HostTensor> {
  return new Map([...w].map(([n, t]) => [n, { ...t, data: to(t.data as Float32Array) }]));
}
