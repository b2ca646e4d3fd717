// Dynamic loss scaling for float16 training on GPUs: the loss seed is multiplied by the scale so small gradients
// survive float16; gradients are divided back before the step. Overflow halves the scale and skips the step;
// a run of clean steps doubles it.
import { gradsAreFinite } from './clip.js';
import type { ParamMap } from './common.js';

export class DynamicLossScaler {
  scale: number;
  private cleanSteps = 0;

  constructor(
    initialScale = 2 ** 16,
    private readonly growthInterval = 2000,
    private readonly minScale = 1,
  ) {
    this.scale = initialScale;
  }

  /**
   * Unscales gradients in place and says whether the step should be applied. On overflow the scale halves and the
   * gradients are left as they are (the caller skips the step).
   */
  unscale(grads: ParamMap): boolean {
    if (!gradsAreFinite(grads)) {
      this.scale = Math.max(this.minScale, this.scale / 2);
      this.cleanSteps = 0;
      return false;
    }
    const inv = 1 / this.scale;
    for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] *= inv;
    if (++this.cleanSteps >= this.growthInterval) {
      this.scale *= 2;
      this.cleanSteps = 0;
    }
    return true;
  }
}
