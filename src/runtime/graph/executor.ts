// Runs a validated API-format prompt the way ComfyUI's execution.py does: start from the output nodes, walk upstream,
// run only what they need, dependencies first; reuse results of earlier runs whose inputs (and upstream) did not
// change; report progress through events; stop cleanly on cancellation or at the first failing node.
import { createHash } from 'node:crypto';
import { Rng } from '../engine/random.js';
import type { ExecutionEvent } from './events.js';
import { type Folders, InterruptedError, type PngInfo, type NodeDefinition, type RunContext, type UiOutput, isWidget } from './node-api.js';
import { type Prompt, isLink, unwrapLiteral } from './prompt.js';
import type { NodeRegistry } from './registry.js';
import { LruCache } from './lru-cache.js';
import { getOwn } from './own-keys.js';
import { canonical, formatInputs } from './value-text.js';

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

interface CacheEntry {
  outputs: unknown[];
  ui?: UiOutput;
}

/** How a node gets one input: from an upstream node's output slot, or as a constant from the prompt or the schema. */
type InputSource = { link: [string, number] } | { value: unknown };

interface PlannedNode {
  id: string;
  classType: string;
  def: NodeDefinition;
  /** Declared inputs present in the prompt (or defaulted), in schema order. */
  inputs: Map<string, InputSource>;
  key: string;
  /** False when the node or an ancestor asked never to be cached (isChanged returned NaN). */
  cacheable: boolean;
}

/** The run cannot start: a prompt the validator should have rejected (unknown node, dangling link, cycle). */
class PlanError extends Error {
  constructor(
    readonly node: string,
    readonly nodeType: string,
    message: string,
    name: string,
  ) {
    super(message);
    this.name = name;
  }
}

/** A node broke its own schema's contract (wrong number of outputs, no result). */
class NodeOutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeOutputError';
  }
}

const DEFAULT_CACHE_SIZE = 256;
let uncachedCounter = 0;

export class Executor implements GraphRunner {
  private readonly cache: LruCache<CacheEntry>;

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
    let order: PlannedNode[];
    const values = new Map<string, CacheEntry>();
    try {
      const roots = this.rootsOf(prompt, o.outputs);
      planned = this.plan(prompt, roots, seed);
      cached = [...planned.values()].filter((n) => n.cacheable && this.cache.peek(n.key)).map((n) => n.id).sort(compareIds);
      order = this.order(planned, roots, values);
    } catch (err) {
      if (!(err instanceof PlanError)) throw err;
      return failed({ node: err.node, nodeType: err.nodeType, message: err.message, exceptionType: err.name, traceback: [], currentInputs: {} });
    }
    emit({ type: 'execution_cached', promptId, nodes: cached, timestamp: Date.now() });

    for (const node of order) {
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
      let entry: CacheEntry;
      try {
        const result = await node.def.run(inputs, this.contextFor(node.id, promptId, seed, signal, emit, o.pngInfo, o.pollCancel));
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

  /** The nodes to execute, deduplicated, in id order. */
  private rootsOf(prompt: Prompt, outputs: string[] | undefined): string[] {
    const ids = outputs ? [...new Set(outputs.map(String))] : Object.keys(prompt).filter((id) => this.registry.get(prompt[id].class_type)?.outputNode);
    for (const id of ids) if (!getOwn(prompt, id)) throw new PlanError(id, '', `output node ${id} is not in the prompt`, 'MissingNodeError');
    return ids.sort(compareIds);
  }

  /**
   * Every node the roots need, with its resolved inputs and cache key. A key hashes the class, the node id and run
   * seed (they seed ctx.rng), the isChanged() fingerprint, the constant inputs, and the keys of linked nodes with
   * their slots: a node's key changes exactly when it or anything upstream of it changed.
   */
  private plan(prompt: Prompt, roots: string[], seed: number): Map<string, PlannedNode> {
    const planned = new Map<string, PlannedNode>();
    const onStack = new Set<string>();

    const visit = (id: string): PlannedNode => {
      const done = planned.get(id);
      if (done) return done;
      const pn = getOwn(prompt, id)!;
      const def = this.registry.get(pn.class_type);
      if (!def) throw new PlanError(id, pn.class_type, `node ${id}: unknown node type ${pn.class_type}`, 'UnknownNodeTypeError');
      if (onStack.has(id)) throw new PlanError(id, pn.class_type, `node ${id} (${pn.class_type}) depends on itself (dependency cycle)`, 'DependencyCycleError');
      onStack.add(id);

      const inputs = new Map<string, InputSource>();
      const constants = new Map<string, unknown>();
      const keyParts: unknown[] = [];
      let cacheable = true;
      for (const [name, spec] of Object.entries(def.inputs)) {
        const raw = getOwn(pn.inputs, name);
        if (isLink(raw)) {
          const [srcId, slot] = [String(raw[0]), raw[1]];
          const srcNode = getOwn(prompt, srcId);
          if (!srcNode) throw new PlanError(id, pn.class_type, `node ${id} input '${name}' is linked to node ${srcId}, which is not in the prompt`, 'MissingNodeError');
          const src = visit(srcId);
          if (slot < 0 || slot >= src.def.outputs.length)
            throw new PlanError(id, pn.class_type, `node ${id} input '${name}' is linked to output ${slot} of node ${srcId} (${src.classType}), which has ${src.def.outputs.length} outputs`, 'BadLinkError');
          inputs.set(name, { link: [srcId, slot] });
          keyParts.push([name, 'link', src.key, slot]);
          cacheable &&= src.cacheable;
        } else if (raw !== undefined) {
          const value = unwrapLiteral(raw);
          inputs.set(name, { value });
          constants.set(name, value);
          keyParts.push([name, 'value', value]);
        } else if (isWidget(spec) && 'default' in spec && spec.default !== undefined) {
          inputs.set(name, { value: spec.default });
          constants.set(name, spec.default);
          keyParts.push([name, 'value', spec.default]);
        }
      }
      const fingerprint = changeFingerprint(def, Object.fromEntries(constants), this.folders);
      if (fingerprint === undefined) cacheable = false;
      const key = createHash('sha256')
        .update(canonical([pn.class_type, id, String(seed), fingerprint ?? `uncached:${++uncachedCounter}`, keyParts]))
        .digest('hex');

      onStack.delete(id);
      const node: PlannedNode = { id, classType: pn.class_type, def, inputs, key, cacheable };
      planned.set(id, node);
      return node;
    };

    for (const id of roots) visit(id);
    return planned;
  }

  /**
   * Run order: depth-first from the roots (in id order), each node after its linked inputs (in schema order). A cached
   * node ends the walk upstream (its ancestors are not needed); its result goes into `values` now, so that entries
   * evicted while this run stores new ones stay available.
   */
  private order(planned: Map<string, PlannedNode>, roots: string[], values: Map<string, CacheEntry>): PlannedNode[] {
    const order: PlannedNode[] = [];
    const seen = new Set<string>();
    const walk = (id: string): void => {
      if (seen.has(id)) return;
      seen.add(id);
      const node = planned.get(id)!;
      const hit = node.cacheable ? this.cache.get(node.key) : undefined;
      if (hit) values.set(id, hit);
      else for (const src of node.inputs.values()) if ('link' in src) walk(src.link[0]);
      order.push(node);
    };
    for (const id of roots) walk(id);
    return order;
  }

  private contextFor(
    nodeId: string, promptId: string, seed: number, signal: AbortSignal, emit: (e: ExecutionEvent) => void, pngInfo?: PngInfo, pollCancel?: () => void,
  ): RunContext {
    const folders = this.folders;
    return {
      nodeId,
      promptId,
      pngInfo,
      signal,
      rng: new Rng(nodeSeed(seed, nodeId)),
      folders,
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
}

/** The seed of a node's ctx.rng: FNV-1a (64-bit) of the run seed and the node id. */
export function nodeSeed(seed: number, nodeId: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(`${seed}\u0000${nodeId}`, 'utf8')) h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 0x100000001b3n);
  return h;
}

/** The node's isChanged() as part of a cache key; undefined means "never cache" (NaN, or isChanged threw). */
function changeFingerprint(def: NodeDefinition, constants: Record<string, unknown>, folders: Folders): string | undefined {
  if (!def.isChanged) return '';
  let v: string | number | undefined;
  try {
    v = def.isChanged(constants, folders);
  } catch {
    // Let the node run (and report its own error) rather than fail here.
    return undefined;
  }
  if (typeof v === 'number') return Number.isNaN(v) ? undefined : `n:${v}`;
  return v === undefined ? '' : `s:${v}`;
}

function checkResult(node: PlannedNode, result: unknown): CacheEntry {
  const r = result as { outputs?: unknown; ui?: unknown } | null | undefined;
  const want = node.def.outputs.length;
  if (!r || typeof r !== 'object' || !Array.isArray(r.outputs))
    throw new NodeOutputError(`node ${node.id} (${node.classType}) returned no outputs list; its schema declares ${want} output${want === 1 ? '' : 's'}`);
  if (r.outputs.length !== want)
    throw new NodeOutputError(`node ${node.id} (${node.classType}) returned ${r.outputs.length} output${r.outputs.length === 1 ? '' : 's'}; its schema declares ${want}`);
  if (r.ui !== undefined && (r.ui === null || typeof r.ui !== 'object' || Array.isArray(r.ui)))
    throw new NodeOutputError(`node ${node.id} (${node.classType}) returned a ui that is not an object`);
  return r.ui === undefined ? { outputs: r.outputs } : { outputs: r.outputs, ui: r.ui as UiOutput };
}

function describeError(err: unknown): Pick<RunError, 'message' | 'exceptionType' | 'traceback'> {
  if (err instanceof Error) {
    const frames = (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
    return { message: err.message, exceptionType: err.name || err.constructor.name || 'Error', traceback: frames.map((l) => `${l}\n`) };
  }
  return { message: String(err), exceptionType: typeof err, traceback: [] };
}

/** Node ids in natural order: "2" < "10" < "10:3" < "a". */
export function compareIds(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const [x, y] = [pa[i], pb[i]];
    if (x === y) continue;
    const [dx, dy] = [/^\d/.test(x), /^\d/.test(y)];
    if (dx && dy) {
      const [nx, ny] = [x.replace(/^0+(?=\d)/, ''), y.replace(/^0+(?=\d)/, '')];
      if (nx.length !== ny.length) return nx.length - ny.length;
      if (nx !== ny) return nx < ny ? -1 : 1;
      return x.length - y.length;
    }
    if (dx !== dy) return dx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
