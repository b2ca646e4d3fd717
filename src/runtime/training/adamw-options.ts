// The AdamW settings both trainers take (DreamBooth and DDPO), named as diffusers' training scripts name them.
export interface AdamWOptions {
  adamBeta1?: number;
  adamBeta2?: number;
  adamEps?: number;
  /** AdamW decoupled weight decay. */
  weightDecay?: number;
  /** Gradient-norm clip; 0 turns clipping off. */
  maxGradNorm?: number;
}
