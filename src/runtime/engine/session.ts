// onnxruntime-node sessions: execution provider choice, threads, and HostTensor feeds and fetches.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Graph } from '../onnx/ir.js';
import { encodeModel, toModelProto } from '../onnx/graph-proto.js';
import { onnx } from '../onnx/proto.js';
import { bytesOf, externalTensorProto } from '../onnx/tensor-proto.js';
import type { DType, HostTensor } from './tensor.js';

export type ExecutionProvider = 'auto' | 'cpu' | 'cuda';

export interface SessionOptions {
  provider?: ExecutionProvider;
  /** Intra-op threads; defaults to the machine's cores (onnxruntime's own default). */
  threads?: number;
  /** Graph optimization level (onnxruntime's 'all' unless a test wants the graph run as written). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  deviceId?: number;
  /** Let idle pool threads spin-wait (lower latency for a session that runs alone back to back). Default off. */
  spin?: boolean;
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

function providers(o: SessionOptions): ort.InferenceSession.ExecutionProviderConfig[] {
  const p = o.provider ?? 'auto';
  if (p === 'cuda' || (p === 'auto' && cudaAvailable())) return [{ name: 'cuda', deviceId: o.deviceId ?? 0 }, 'cpu'];
  return ['cpu'];
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
  };
}

/** Initializers larger than this go to onnxruntime as in-memory external data: no copy into the protobuf. */
const EXTERNAL_THRESHOLD = 1024;

export class Session {
  private constructor(
    readonly ort: ort.InferenceSession,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  /** `extraOutputs` exposes intermediate values too (their types are left for onnxruntime to infer). */
  static async fromGraph(graph: Graph, o: SessionOptions = {}, extraOutputs: string[] = []): Promise<Session> {
    const externalData: { path: string; data: Uint8Array }[] = [];
    const model = toModelProto(graph, {
      initializer: (name, t) => {
        if (t.data.byteLength < EXTERNAL_THRESHOLD) return undefined;
        const path = `w${externalData.length}.bin`;
        externalData.push({ path, data: bytesOf(t.data) });
        return externalTensorProto(name, t, path, 0);
      },
    });
    model.graph!.output!.push(...extraOutputs.map((name) => onnx.ValueInfoProto.create({ name })));
    return Session.fromBytes(encodeModel(model), o, externalData);
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
