// The RunContext a node sees while it runs: its seeded generator, the run's folders and signal, and callbacks that
// become the run's events.
import { Rng } from '../onnx/random.js';
import type { ExecutionEvent } from './events.js';
import { type Folders, InterruptedError, type PngInfo, type RunContext } from './node-api.js';

export interface NodeContextOptions {
  nodeId: string;
  promptId: string;
  seed: number;
  signal: AbortSignal;
  folders: Folders;
  emit: (e: ExecutionEvent) => void;
  pngInfo?: PngInfo;
  pollCancel?: () => void;
}

export function nodeContext(o: NodeContextOptions): RunContext {
  const { nodeId, promptId, signal, emit, pollCancel } = o;
  return {
    nodeId,
    promptId,
    pngInfo: o.pngInfo,
    signal,
    rng: new Rng(nodeSeed(o.seed, nodeId)),
    folders: o.folders,
    progress(value, max, text) {
      emit({ type: 'progress', promptId, node: nodeId, value, max, ...(text !== undefined ? { text } : {}) });
    },
    metrics(values, step) {
      emit({ type: 'metrics', promptId, node: nodeId, step, values });
    },
    preview(image) {
      emit({ type: 'preview', promptId, node: nodeId, image });
    },
    log(level, message) {
      emit({ type: 'log', promptId, node: nodeId, level, message });
    },
    checkInterrupted() {
      pollCancel?.();
      if (signal.aborted) throw new InterruptedError();
    },
  };
}

/** The seed of a node's ctx.rng: FNV-1a (64-bit) of the run seed and the node id. */
export function nodeSeed(seed: number, nodeId: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(`${seed}\u0000${nodeId}`, 'utf8')) h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 0x100000001b3n);
  return h;
}
