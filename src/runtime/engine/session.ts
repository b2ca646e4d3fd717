// onnxruntime-node sessions: execution provider choice, threads, and HostTensor feeds and fetches.
import fs from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Graph } from '../onnx/ir.js';
import { encodeModel, toModelProto } from '../onnx/graph-proto.js';
import { lowerForWebGpu } from '../onnx/lower-for-webgpu.js';
import { onnx } from '../onnx/proto.js';
import { bytesOf, externalTensorProto } from '../onnx/tensor-proto.js';
import { describeAdapter, type GpuAdapter, machineAdapters } from './gpu-adapter.js';
import type { DType, HostTensor } from '../onnx/tensor.js';

export type ExecutionProvider = 'auto' | 'cpu' | 'cuda' | 'webgpu';

export interface SessionOptions {
  provider?: ExecutionProvider;
  /** Intra-op threads; defaults to the machine's cores (onnxruntime's own default). */
  threads?: number;
  /** Graph optimization level (onnxruntime's 'all' unless a test wants the graph run as written). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  deviceId?: number;
  /** Let idle pool threads spin-wait (lower latency for a session that runs alone back to back). Default off. */
  spin?: boolean;
  /**
   * How `fromGraph` hands the graph's weights (float initializers of SHARED_WEIGHT_BYTES or more) to onnxruntime.
   * 'shared': as graph inputs that every run feeds from the graph's own arrays, which onnxruntime reads in place:
   * each weight is held once, by the graph, and creating the session neither copies nor transforms them. The session
   * computes with the arrays' current contents (change them in place and its results change). Costs some speed:
   * onnxruntime cannot prepack them or reorder Conv weights for its NCHWc kernels (SD1.5 UNet forward ~6% slower).
   * 'copied': as initializers, which onnxruntime copies in, folds and prepacks: a second copy (more with prepacked
   * and reordered ones), a snapshot taken when the session is created, and slow to create at SD size.
   * 'auto' (default): 'shared' when they add up to AUTO_SHARE_BYTES or more, where memory and start-up dominate;
   * 'copied' for smaller models, and always on a GPU, CUDA or WebGPU (the weights must be on the device).
   */
  weights?: 'auto' | 'shared' | 'copied';
  /**
   * onnxruntime's CPU memory arena (default on): it keeps freed blocks for the next allocation and never gives them
   * back, so a run's peak stays allocated. Off, intermediates go back to the system as they die: less memory, some
   * speed (SD1.5 LoRA step with checkpointing: 7769 -> 7105 MB peak, 15.9 -> 17.8 s). Trainers turn it off with
   * gradient checkpointing, where memory is what was asked for.
   */
  memArena?: boolean;
}

const ORT_TYPES: Partial<Record<DType, ort.Tensor.Type>> = {
  float32: 'float32', float16: 'float16', float64: 'float64', int64: 'int64', int32: 'int32', int8: 'int8', uint8: 'uint8', bool: 'bool',
};

export function toOrt(t: HostTensor): ort.Tensor {
  const type = ORT_TYPES[t.dtype];
  if (!type) throw new Error(`onnxruntime has no tensor type for ${t.dtype}`);
  return new ort.Tensor(type, t.data as never, t.shape);
}

export function fromOrt(t: ort.Tensor): HostTensor {
  return { dtype: t.type as DType, shape: [...t.dims], data: t.data as HostTensor['data'] };
}

let cudaProbe: boolean | undefined;
/**
 * CUDA needs onnxruntime-node's CUDA provider library, which its install script fetches unless told to skip (this
 * project skips it so installs work offline; see README "CUDA"). Available means that library is on disk.
 */
export function cudaAvailable(): boolean {
  if (cudaProbe === undefined) {
    const root = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const bin = path.join(root, 'bin');
    cudaProbe = fs.existsSync(bin) && fs.readdirSync(bin, { recursive: true }).some((f) => String(f).endsWith('libonnxruntime_providers_cuda.so'));
  }
  return cudaProbe;
}

/** The provider a session runs on: 'auto' is CUDA when its library is here, else WebGPU on a hardware adapter, else
 * the CPU (never a software adapter: lavapipe is far slower than the CPU provider). */
export function resolveProvider(p: ExecutionProvider = 'auto'): Exclude<ExecutionProvider, 'auto'> {
  if (p !== 'auto') return p;
  if (cudaAvailable()) return 'cuda';
  return machineAdapters().some((a) => !a.software) ? 'webgpu' : 'cpu';
}

/** What a provider runs on: for the CLI and /system_stats. `text`: "webgpu: NVIDIA H100 80GB HBM3 (NVIDIA, vulkan)". */
export function deviceDescription(p: ExecutionProvider = 'auto'): { provider: Exclude<ExecutionProvider, 'auto'>; adapter?: GpuAdapter; text: string } {
  const provider = resolveProvider(p);
  if (provider !== 'webgpu') return { provider, text: provider === 'cuda' ? 'cuda (onnxruntime CUDA provider)' : `cpu (${os.cpus()[0]?.model?.trim() ?? 'unknown'})` };
  const adapter = webgpuAdapter();
  return { provider, adapter, text: `webgpu: ${describeAdapter(adapter)}` };
}

/** The adapter Dawn takes: hardware before software, as Dawn ranks them. */
function webgpuAdapter(): GpuAdapter {
  const a = machineAdapters()[0];
  if (!a) throw new Error('provider webgpu: no WebGPU adapter here (on Linux: a Vulkan driver, libvulkan1, and for a GPU its vendor\'s Vulkan ICD)');
  return a;
}

function providers(o: SessionOptions): ort.InferenceSession.ExecutionProviderConfig[] {
  const p = resolveProvider(o.provider);
  if (p === 'cuda') return [{ name: 'cuda', deviceId: o.deviceId ?? 0 }, 'cpu'];
  if (p === 'webgpu') {
    webgpuAdapter();
    return [{ name: 'webgpu' }, 'cpu'];
  }
  return ['cpu'];
}

/** Weights must live on the device: a GPU session copies them in once rather than being fed them every run. */
function onDevice(o: SessionOptions): boolean {
  return resolveProvider(o.provider) !== 'cpu';
}

function sessionOptions(o: SessionOptions): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers(o),
    intraOpNumThreads: o.threads ?? 0,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: o.optimization ?? 'all',
    // Idle pool threads must not spin: several sessions (training, sampling, optimizer) take turns on the same cores,
    // and one session's spinning threads would steal them from the next (measured: forward 1.6x slower).
    extra: { session: { intra_op: { allow_spinning: o.spin ? '1' : '0' } } },
    // The memory pattern allocates one block for all of a run's intermediates after the first run, beside the arena
    // chunks that run left behind: twice the activation memory (SD1.5 UNet: +0.9 GB peak), no faster (measured).
    enableMemPattern: false,
    enableCpuMemArena: o.memArena ?? true,
  };
}

/** Initializers larger than this go to onnxruntime as in-memory external data: no copy into the protobuf. */
const EXTERNAL_THRESHOLD = 1024;
/**
 * Float initializers this large are weights that a 'shared' session feeds from the graph's arrays; smaller ones
 * (biases, norm scales, constants) are copied in, where onnxruntime can still fold and fuse them.
 */
export const SHARED_WEIGHT_BYTES = 64 * 1024;
/** 'auto' shares a graph's weights when they add up to this much (text encoders, VAEs and UNets at SD size). */
export const AUTO_SHARE_BYTES = 64 * 1024 * 1024;
const SHAREABLE = new Set<DType>(['float32', 'float16', 'float64']);

/** The graph's initializers that a 'shared' session feeds instead of copying: large float tensors some node reads. */
export function sharedWeightNames(graph: Graph, extraOutputs: readonly string[] = []): Set<string> {
  const read = new Set<string>();
  for (const n of graph.nodes) for (const i of n.inputs) read.add(i);
  const notInput = new Set([...graph.inputs, ...graph.outputs, ...extraOutputs]);
  const names = new Set<string>();
  for (const [name, t] of graph.initializers)
    if (SHAREABLE.has(t.dtype) && t.data.byteLength >= SHARED_WEIGHT_BYTES && read.has(name) && !notInput.has(name)) names.add(name);
  return names;
}

/**
 * The onnxruntime session with the shared weights bound: `run` adds them to the feeds, and the input names and
 * metadata leave them out, so callers (also those running `session.ort` directly) see the graph's own inputs.
 */
function bindWeights(s: ort.InferenceSession, weights: Record<string, ort.Tensor>): ort.InferenceSession {
  const hidden = new Set(Object.keys(weights));
  if (!hidden.size) return s;
  const inputNames = s.inputNames.filter((n) => !hidden.has(n));
  const inputMetadata = s.inputMetadata.filter((m) => !hidden.has(m.name));
  const run = (feeds: ort.InferenceSession.FeedsType, ...rest: unknown[]) => (s.run as (...a: unknown[]) => Promise<ort.InferenceSession.ReturnType>)({ ...weights, ...feeds }, ...rest);
  return new Proxy(s, {
    get(target, p) {
      if (p === 'run') return run;
      if (p === 'inputNames') return inputNames;
      if (p === 'inputMetadata') return inputMetadata;
      const v = Reflect.get(target, p, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

export class Session {
  private constructor(
    readonly ort: ort.InferenceSession,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
    /** Weights fed from the graph's arrays at every run ('shared'); empty when copied in. */
    readonly sharedWeights: readonly string[] = [],
  ) {}

  /** `extraOutputs` exposes intermediate values too (their types are left for onnxruntime to infer). */
  static async fromGraph(given: Graph, o: SessionOptions = {}, extraOutputs: string[] = []): Promise<Session> {
    const graph = resolveProvider(o.provider) === 'webgpu' ? lowerForWebGpu(given) : given;
    const shared = Session.sharing(graph, o, extraOutputs);
    const externalData: { path: string; data: Uint8Array }[] = [];
    const model = toModelProto(graph, {
      asInputs: shared,
      initializer: (name, t) => {
        if (t.data.byteLength < EXTERNAL_THRESHOLD) return undefined;
        const path = `w${externalData.length}.bin`;
        externalData.push({ path, data: bytesOf(t.data) });
        return externalTensorProto(name, t, path, 0);
      },
    });
    model.graph!.output!.push(...extraOutputs.map((name) => onnx.ValueInfoProto.create({ name })));
    const s = await ort.InferenceSession.create(encodeModel(model), { ...sessionOptions(o), externalData });
    const weights: Record<string, ort.Tensor> = {};
    for (const name of shared) weights[name] = toOrt(graph.initializers.get(name)!);
    const bound = bindWeights(s, weights);
    return new Session(bound, bound.inputNames, bound.outputNames, [...shared]);
  }

  /** The initializers `fromGraph` would feed from the graph's arrays under these options. */
  static sharing(graph: Graph, o: SessionOptions = {}, extraOutputs: readonly string[] = []): Set<string> {
    const mode = o.weights ?? 'auto';
    if (mode === 'copied' || onDevice(o)) return new Set();
    const names = sharedWeightNames(graph, extraOutputs);
    if (mode === 'shared') return names;
    let bytes = 0;
    for (const n of names) bytes += graph.initializers.get(n)!.data.byteLength;
    return bytes >= AUTO_SHARE_BYTES ? names : new Set();
  }

  /** A model file, with any external data beside it (onnxruntime reads it directly). */
  static async fromFile(file: string, o: SessionOptions = {}): Promise<Session> {
    const s = await ort.InferenceSession.create(file, sessionOptions(o));
    return new Session(s, s.inputNames, s.outputNames);
  }

  static async fromBytes(bytes: Uint8Array, o: SessionOptions = {}, externalData: { path: string; data: Uint8Array | string }[] = []): Promise<Session> {
    const s = await ort.InferenceSession.create(bytes, { ...sessionOptions(o), externalData });
    return new Session(s, s.inputNames, s.outputNames);
  }

  /** An input's element type and shape as the model declares them (symbolic dimensions as names). */
  inputInfo(name: string): { type: string; shape: readonly (number | string)[] } | undefined {
    const m = this.ort.inputMetadata.find((x) => x.name === name);
    return m && m.isTensor ? { type: m.type, shape: m.shape } : undefined;
  }

  /** Runs with HostTensor feeds; returns the requested (default: all) outputs as HostTensors. */
  async run(feeds: Record<string, HostTensor>, fetches?: readonly string[]): Promise<Record<string, HostTensor>> {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) f[k] = toOrt(v);
    const out = fetches ? await this.ort.run(f, [...fetches]) : await this.ort.run(f);
    const r: Record<string, HostTensor> = {};
    for (const [k, v] of Object.entries(out)) r[k] = fromOrt(v);
    return r;
  }

  /**
   * Runs writing the named outputs into the given tensors' memory (no copies: gradients land in place) and returns
   * the other requested outputs as new HostTensors.
   */
  async runInto(feeds: Record<string, HostTensor>, into: Record<string, HostTensor>, fetchAlso: readonly string[] = []): Promise<Record<string, HostTensor>> {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) f[k] = toOrt(v);
    const fetches: Record<string, ort.Tensor | null> = {};
    for (const [k, v] of Object.entries(into)) fetches[k] = toOrt(v);
    for (const k of fetchAlso) fetches[k] = null;
    const out = await this.ort.run(f, fetches);
    const r: Record<string, HostTensor> = {};
    for (const k of fetchAlso) r[k] = fromOrt(out[k]);
    return r;
  }

  async release(): Promise<void> {
    await this.ort.release();
  }
}
