// Training checkpoints in a folder: `step-<N>.safetensors` holding named tensors (parameters, optimizer state, RNG
// state...) and JSON-able metadata. Written to a temporary file and renamed, so a crash (even SIGKILL) mid-write
// leaves the previous checkpoint intact; only the newest `keep` survive. A trainer calls `latest()` when it starts and
// resumes from it.
import fs from 'node:fs';
import path from 'node:path';
import { openSafetensors, writeSafetensors } from '../engine/safetensors.js';
import type { HostTensor } from '../onnx/tensor.js';

export interface Checkpoint {
  step: number;
  tensors: Map<string, HostTensor>;
  /** Whatever the trainer needs besides tensors (its settings fingerprint, RNG states, metric history...). */
  meta: Record<string, unknown>;
}

const FILE = /^step-(\d+)\.safetensors$/;

export class CheckpointStore {
  constructor(
    readonly dir: string,
    private readonly keep = 2,
  ) {}

  /** Steps of the checkpoints present, ascending. */
  steps(): number[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs.readdirSync(this.dir).flatMap((f) => {
      const m = FILE.exec(f);
      return m ? [Number(m[1])] : [];
    }).sort((a, b) => a - b);
  }

  save(c: Checkpoint): string {
    fs.mkdirSync(this.dir, { recursive: true });
    const file = path.join(this.dir, `step-${c.step}.safetensors`);
    // Streamed tensor by tensor and renamed into place (a full SD1.5 checkpoint with AdamW state is ~10 GB).
    writeSafetensors(file, Object.fromEntries(c.tensors), { step: String(c.step), meta: JSON.stringify(c.meta) });
    for (const s of this.steps().slice(0, -this.keep)) fs.rmSync(path.join(this.dir, `step-${s}.safetensors`), { force: true });
    return file;
  }

  /** The newest readable checkpoint, or undefined. A corrupt file (a disk error, a foreign file) is skipped. */
  latest(): Checkpoint | undefined {
    for (const step of this.steps().reverse()) {
      const file = path.join(this.dir, `step-${step}.safetensors`);
      try {
        const st = openSafetensors(file);
        try {
          const tensors = new Map(st.names().map((n) => [n, st.read(n)]));
          return { step, tensors, meta: JSON.parse(st.metadata.meta ?? '{}') as Record<string, unknown> };
        } finally {
          st.close();
        }
      } catch {
        continue;
      }
    }
    return undefined;
  }

  clear(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
