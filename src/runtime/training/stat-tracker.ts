// DDPO advantages: rewards normalized per prompt (ddpo-pytorch's PerPromptStatTracker), so that a prompt that is
// easy (high rewards everywhere) and one that is hard are both pushed toward their own better samples. Per prompt a
// buffer keeps its most recent rewards; this batch's rewards join the buffer first, then
//   A = (r - mean) / (std + 1e-6)
// over the buffer once it holds `minCount` values, else over the whole batch (a new prompt's few rewards say little).
// `global` mode normalizes over the batch only. std is the population std (numpy's default), A is clipped to +-clip.
export interface StatTrackerOptions {
  /** Rewards kept per prompt (ddpo-pytorch: 16-32). Default 32. */
  bufferSize?: number;
  /** A prompt's buffer is used once it holds this many rewards; the batch's statistics before. Default 16. */
  minCount?: number;
  /** Per-prompt buffers (true) or the batch's statistics for everyone (false). Default true. */
  perPrompt?: boolean;
  /** Advantages are clipped to [-clip, clip]. Default 5. */
  clip?: number;
}

/** Buffers as plain JSON (checkpoint metadata): prompt -> rewards, oldest first. */
export type StatTrackerState = Record<string, number[]>;

const STD_EPS = 1e-6;

function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
  const variance = xs.reduce((a, x) => a + (x - mean) * (x - mean), 0) / xs.length;
  return { mean, std: Math.sqrt(variance) };
}

export class StatTracker {
  readonly bufferSize: number;
  readonly minCount: number;
  readonly perPrompt: boolean;
  readonly clip: number;
  private buffers = new Map<string, number[]>();

  constructor(o: StatTrackerOptions = {}) {
    this.bufferSize = o.bufferSize ?? 32;
    this.minCount = o.minCount ?? 16;
    this.perPrompt = o.perPrompt ?? true;
    this.clip = o.clip ?? 5;
    if (!Number.isInteger(this.bufferSize) || this.bufferSize < 1) throw new RangeError(`stat tracker bufferSize must be an integer >= 1, got ${this.bufferSize}`);
    if (!Number.isInteger(this.minCount) || this.minCount < 1) throw new RangeError(`stat tracker minCount must be an integer >= 1, got ${this.minCount}`);
    if (this.minCount > this.bufferSize) throw new RangeError(`stat tracker minCount ${this.minCount} exceeds bufferSize ${this.bufferSize}: the buffer could never be used`);
    if (!(this.clip > 0)) throw new RangeError(`advantage clip must be > 0, got ${this.clip}`);
  }

  /** Records one batch of rewards (one prompt per reward) and returns their clipped advantages. */
  update(prompts: readonly string[], rewards: readonly number[]): number[] {
    if (prompts.length !== rewards.length) throw new Error(`stat tracker: ${prompts.length} prompts for ${rewards.length} rewards`);
    if (rewards.length === 0) return [];
    const bad = rewards.findIndex((r) => !Number.isFinite(r));
    if (bad >= 0) throw new Error(`stat tracker: reward ${bad} (prompt '${prompts[bad]}') is ${rewards[bad]}`);
    const batch = meanStd(rewards);
    const stats = new Map<string, { mean: number; std: number }>();
    if (this.perPrompt) {
      const byPrompt = new Map<string, number[]>();
      prompts.forEach((p, i) => (byPrompt.get(p) ?? byPrompt.set(p, []).get(p)!).push(rewards[i]));
      for (const [p, rs] of byPrompt) {
        const buf = [...(this.buffers.get(p) ?? []), ...rs].slice(-this.bufferSize);
        this.buffers.set(p, buf);
        stats.set(p, buf.length >= this.minCount ? meanStd(buf) : batch);
      }
    }
    return rewards.map((r, i) => {
      const s = stats.get(prompts[i]) ?? batch;
      const a = (r - s.mean) / (s.std + STD_EPS);
      return Math.max(-this.clip, Math.min(this.clip, a));
    });
  }

  /** Rewards buffered for a prompt (oldest first). */
  buffer(prompt: string): readonly number[] {
    return this.buffers.get(prompt) ?? [];
  }

  state(): StatTrackerState {
    return Object.fromEntries([...this.buffers].map(([p, b]) => [p, [...b]]));
  }

  load(s: StatTrackerState): void {
    this.buffers = new Map(Object.entries(s).map(([p, b]) => {
      if (!Array.isArray(b) || !b.every((x) => typeof x === 'number')) throw new Error(`stat tracker state: buffer of '${p}' is not a list of numbers`);
      return [p, b.slice(-this.bufferSize)];
    }));
  }

  clear(): void {
    this.buffers.clear();
  }
}
