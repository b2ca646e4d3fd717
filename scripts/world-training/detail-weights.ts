// Per-pixel loss weights for the decoder passes: 1 plus `strength` times how far a pixel stands out from its 3x3
// neighbourhood. A plain squared error spends almost all of its budget on flat areas; the subjects' thin white
// markings are a few pixels that differ sharply from their neighbours, and they are what the round trip blurs.
// Weighting by local contrast is a cheap stand-in for the perceptual loss SD's VAE was trained with.
import type { HostTensor } from '../../src/runtime/onnx/tensor.js';
import { f32 } from './io.js';

/** Weights [B, 1, H, W] for images [B, C, H, W] (any range): the largest over channels of |x - mean of its 3x3
 * neighbourhood| (clamped at the border), times `strength`, plus 1. */
export function detailWeights(images: HostTensor, strength: number): HostTensor {
  const [B, C, H, W] = images.shape;
  const x = images.data as Float32Array;
  const out = new Float32Array(B * H * W);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++) {
      const plane = (b * C + c) * H * W;
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) {
          let sum = 0;
          for (let di = -1; di <= 1; di++)
            for (let dj = -1; dj <= 1; dj++) {
              const ii = Math.min(H - 1, Math.max(0, i + di)), jj = Math.min(W - 1, Math.max(0, j + dj));
              sum += x[plane + ii * W + jj];
            }
          const k = b * H * W + i * W + j;
          out[k] = Math.max(out[k], Math.abs(x[plane + i * W + j] - sum / 9));
        }
    }
  for (let k = 0; k < out.length; k++) out[k] = 1 + strength * out[k];
  return f32([B, 1, H, W], out);
}
