// Gradient accumulation over micro-batches: sums in float32 buffers that are reused across optimizer steps,
// so accumulating never allocates after the first step.
import type { ParamMap } from './common.js';

export class GradAccumulator {
  private sums: ParamMap = new Map();
  private n = 0;

  /** number of add() calls since the last reset() */
  get count(): number { return this.n; }

  /** The running sums (live buffers, not copies). */
  get sum(): ParamMap { return this.sums; }

  /** Adds one micro-batch's gradients. A parameter missing from some micro-batches counts as zero there. */
  add(grads: ParamMap): void {
    for (const [name, g] of grads) {
      let s = this.sums.get(name);
      if (!s) this.sums.set(name, (s = new Float32Array(g.length)));
      if (s.length !== g.length) throw new Error(`GradAccumulator: "${name}" had ${s.length} values, now ${g.length}`);
      for (let i = 0; i < g.length; i++) s[i] = s[i]! + g[i]!;
    }
    this.n++;
  }

  /** Sum / count. Writes into `out`'s arrays when given (reuse them each step), else into fresh ones. */
  mean(out: ParamMap = new Map()): ParamMap {
    if (this.n === 0) throw new Error('GradAccumulator: mean() before any add()');
    const n = this.n;
    for (const [name, s] of this.sums) {
      let o = out.get(name);
      if (!o) out.set(name, (o = new Float32Array(s.length)));
      if (o.length !== s.length) throw new Error(`GradAccumulator: output "${name}" has ${o.length} values, expected ${s.length}`);
      for (let i = 0; i < s.length; i++) o[i] = s[i]! / n;
    }
    return out;
  }

  /** Zeroes the sums in place (buffers are kept) and the count. */
  reset(): void {
    for (const s of this.sums.values()) s.fill(0);
    this.n = 0;
  }
}
