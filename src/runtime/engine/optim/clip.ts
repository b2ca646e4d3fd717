// Gradient-norm clipping (torch.nn.utils.clip_grad_norm_) and the finiteness check that guards an optimizer step.
import type { ParamMap } from './common.js';

/**
 * Scales all gradients in place so their global L2 norm is at most maxNorm and returns the norm before clipping.
 * As in torch, scale = maxNorm / (norm + 1e-6), applied only when < 1. A non-finite norm leaves gradients untouched
 * (torch would spread NaN through them); check the result or gradsAreFinite() and skip the step instead.
 */
export function clipGradNorm(grads: ParamMap, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  let sumSq = 0; // double accumulator: float32 sums over millions of values would lose precision
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) sumSq += g[i]! * g[i]!;
  const norm = Math.sqrt(sumSq);
  const scale = maxNorm / (norm + 1e-6);
  if (scale < 1) for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] = g[i]! * scale;
  return norm;
}

/** True when no gradient holds NaN or ±Infinity. */
export function gradsAreFinite(grads: ParamMap): boolean {
  for (const g of grads.values()) {
    for (let i = 0; i < g.length; i++) if (g[i]! - g[i]! !== 0) return false; // x - x is NaN exactly for NaN/±inf
  }
  return true;
}
