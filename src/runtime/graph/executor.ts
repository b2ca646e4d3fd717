// Runs a validated API-format prompt the way ComfyUI's execution.py does: start from the output nodes, walk upstream,
// run only what they need, dependencies first; reuse results of earlier runs whose inputs (and upstream) did not
// change; report progress through events; stop cleanly on cancellation or at the first failing node. What to run and
// in which order is planned first (run-plan.ts); this file runs the plan.
import { compareIds } from './compare-ids.js';
import type { ExecutionEvent } from './events.js';
import { LruCache } from './lru-cache.js';
import { type Folders, InterruptedError, type PngInfo, type UiOutput } from './node-api.js';
import { nodeContext } from './node-context.js';
import { type NodeOutputs, checkResult, describeError } from './node-result.js';
import type { Prompt } from './prompt.js';
import type { NodeRegistry } from './registry.js';
import { PlanError, type PlannedNode, order, plan, rootsOf } from './run-plan.js';
import { formatInputs } from './value-text.js';

export interface ExecutorOptions {
  /** Most node results kept across runs (least recently used dropped first); 0 disables caching. Default 256. */
  cacheSize?: number;
}

export interface RunOptions {
  promptId: string;
  /** Aborting it cancels the run: the running node sees it in ctx.checkInterrupted(), the executor between nodes. */
  signal?: AbortSignal;
  /**
   * Called whenever a node checks for cancellation, before the signal is read: a worker thread busy in native calls
   * reads no messages, so it aborts the signal from a shared flag here (WorkerExecutor).
   */
  pollCancel?: () => void;
  onEvent?: (event: ExecutionEvent) => void;
  /** Node ids to execute (ComfyUI's partial_execution_targets); default: every output node of the prompt. */
  outputs?: string[];
  /** The prompt and UI workflow that saved images embed (ComfyUI's PROMPT and EXTRA_PNGINFO); not part of cache keys. */
  pngInfo?: PngInfo;
  /** Seeds every node's ctx.rng (with the node id). Part of every cache key, so keep it fixed to reuse results. Default 0. */
  seed?: number;
}

/** What runs prompts for a caller: an Executor in the caller's thread, or a WorkerExecutor in a worker thread. */
export interface GraphRunner {
  run(prompt: Prompt, o: RunOptions): Promise<RunSummary>;
  /** Forgets every cached node result (ComfyUI's /free). */
  clearCache(): void;
  /** Lets go of what the runner holds (its worker thread). */
  close(): Promise<void>;
}

export interface RunError {
  node: string;
  nodeType: string;
  message: string;
  exceptionType: string;
  traceback: string[];
  currentInputs: Record<string, unknown[]>;
}

export interface RunSummary {
  status: 'success' | 'error' | 'interrupted';
  /** UI outputs by node id (ComfyUI's history "outputs"), of nodes that ran or were re-sent from the cache. */
  outputs: Record<string, UiOutput>;
  error?: RunError;
  /** Where the run was cancelled (node null: before any node). */
  interrupted?: { node: string | null; nodeType: string | null };
  /** Nodes that ran in this run, in order. */
  executed: string[];
  /** Needed nodes whose results came from the cache (the execution_cached list), in id order. */
  cached: string[];
}

const DEFAULT_CACHE_SIZE = 256;

export class Executor implements GraphRunner {
  private readonly cache: LruCache<NodeOutputs>;

  constructor(
    private readonly registry: NodeRegistry,
    private readonly folders: Folders,
    opts: ExecutorOptions = {},
  ) {
    const size = opts.cacheSize ?? DEFAULT_CACHE_SIZE;
    if (!Number.isInteger(size) || size < 0) throw new Error(`cacheSize must be a non-negative integer, got ${size}`);
    this.cache = new LruCache(size);
  }

  /** Forgets every cached result (ComfyUI's /free). */
  clearCache(): void {
    this.cache.clear();
  }

  /** Nothing to let go of: results are dropped with the executor. */
  async close(): Promise<void> {}

  /** How many node results the cache holds. */
  get cachedResults(): number {
    return this.cache.size;
  }

  async run(prompt: Prompt, o: RunOptions): Promise<RunSummary> {
    const { promptId } = o;
    const signal = o.signal ?? new AbortController().signal;
    const seed = o.seed ?? 0;
    const executed: string[] = [];
    // Keyed by node id, which may be any string ('__proto__' included): a Map, an object only in the summary.
    const uiOutputs = new Map<string, UiOutput>();
    let cached: string[] = [];

    const emit = (e: ExecutionEvent): void => {
      if (!o.onEvent) return;
      // A broken listener (a closed socket, say) must not fail a long training run.
      try {
        o.onEvent(e);
      } catch (err) {
        console.error(`executor: event listener threw on ${e.type}:`, err);
      }
    };
    const summary = (status: RunSummary['status']): RunSummary => ({ status, outputs: Object.fromEntries(uiOutputs), executed: [...executed], cached });
    const interrupted = (node: string | null, nodeType: string | null): RunSummary => {
      emit({ type: 'executing', promptId, node: null });
      emit({ type: 'execution_interrupted', promptId, timestamp: Date.now(), node, nodeType, executed: [...executed] });
      return { ...summary('interrupted'), interrupted: { node, nodeType } };
    };
    const failed = (error: RunError): RunSummary => {
      emit({ type: 'executing', promptId, node: null });
      emit({ type: 'execution_error', promptId, timestamp: Date.now(), ...error, executed: [...executed] });
      return { ...summary('error'), error };
    };

    emit({ type: 'execution_start', promptId, timestamp: Date.now() });
    if (signal.aborted) return interrupted(null, null);

    let planned: Map<string, PlannedNode>;
    let runOrder: PlannedNode[];
    const values = new Map<string, NodeOutputs>();
    try {
      const roots = rootsOf(prompt, this.registry, o.outputs);
      planned = plan(prompt, this.registry, this.folders, roots, seed);
      cached = [...planned.values()].filter((n) => n.cacheable && this.cache.peek(n.key)).map((n) => n.id).sort(compareIds);
      runOrder = order(planned, roots, this.cache, values);
    } catch (err) {
      if (!(err instanceof PlanError)) throw err;
      return failed({ node: err.node, nodeType: err.nodeType, message: err.message, exceptionType: err.name, traceback: [], currentInputs: {} });
    }
    emit({ type: 'execution_cached', promptId, nodes: cached, timestamp: Date.now() });

    for (const node of runOrder) {
      const hit = values.get(node.id);
      if (hit) {
        // Served from the cache: no `executing`, but its UI output goes out again so clients show it.
        if (hit.ui) {
          uiOutputs.set(node.id, hit.ui);
          emit({ type: 'executed', promptId, node: node.id, output: hit.ui });
        }
        continue;
      }
      if (signal.aborted) return interrupted(node.id, node.classType);
      emit({ type: 'executing', promptId, node: node.id });

      const inputs: Record<string, unknown> = Object.fromEntries(
        [...node.inputs].map(([name, src]) => [name, 'link' in src ? values.get(src.link[0])!.outputs[src.link[1]] : src.value]),
      );
      let entry: NodeOutputs;
      try {
        const ctx = nodeContext({ nodeId: node.id, promptId, seed, signal, folders: this.folders, emit, pngInfo: o.pngInfo, pollCancel: o.pollCancel });
        const result = await node.def.run(inputs, ctx);
        entry = checkResult(node, result);
      } catch (err) {
        this.cache.delete(node.key);
        if (err instanceof InterruptedError || signal.aborted) return interrupted(node.id, node.classType);
        return failed({ node: node.id, nodeType: node.classType, ...describeError(err), currentInputs: formatInputs(inputs) });
      }
      values.set(node.id, entry);
      if (node.cacheable) this.cache.set(node.key, entry);
      executed.push(node.id);
      if (entry.ui) {
        uiOutputs.set(node.id, entry.ui);
        emit({ type: 'executed', promptId, node: node.id, output: entry.ui });
      }
    }

    emit({ type: 'executing', promptId, node: null });
    emit({ type: 'execution_success', promptId, timestamp: Date.now() });
    return summary('success');
  }
}
