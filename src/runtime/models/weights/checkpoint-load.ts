// Loading one Stable Diffusion component from a detected checkpoint (checkpoint.ts) into diffusers/transformers
// naming, as float32, checked against the shapes the model expects; the report says what did not match.
// Safetensors files are read tensor by tensor into their final arrays (tensor-io.ts), so loading a component holds its
// weights once, plus the largest tensor's half-precision bytes when converting.
import { toFloat32 } from '../../engine/safetensors.js';
import type { DType, HostTensor } from '../../onnx/tensor.js';
import { shapeStr } from '../../onnx/ir.js';
import { loadModel } from '../../onnx/model-file.js';
import { type Checkpoint, CheckpointError, checkpointComponents, type DiffusersCheckpoint, type LdmCheckpoint, type OnnxCheckpoint, openChecked } from './checkpoint.js';
import { fromLdmShape, isLdmBookkeeping, LDM_PREFIX, ldmEmaKey, ldmToDiffusers } from './ldm-keys.js';
import { componentShapes, KNOWN_BUFFERS, SD15, type ComponentName, type SdLayout, type ShapeTable } from './sd15-layout.js';
import { Float32Reader } from './tensor-io.js';

export interface LoadOptions {
  /** name -> shape the model expects; default: the layout's table of the component (SD1.5) */
  expected?: ShapeTable;
  /** throw (naming the keys) when anything is missing, unexpected or misshaped */
  strict?: boolean;
  /** LDM files with `model_ema.*`: load the EMA copy of the UNet */
  ema?: boolean;
  /** structure used to map LDM keys (SD1.5 by default) */
  layout?: SdLayout;
}

export interface Misshaped {
  name: string;
  /** the key in the file */
  key: string;
  expected: number[];
  found: number[];
}

export interface LoadReport {
  component: ComponentName;
  files: string[];
  loaded: number;
  /** expected names the checkpoint does not have */
  missing: string[];
  /** keys in the checkpoint (its own naming) that map to no expected name; not loaded */
  unexpected: string[];
  /** present but with another shape; not loaded */
  misshaped: Misshaped[];
  /** known non-parameters skipped (e.g. CLIP's position_ids buffer) */
  ignored: string[];
  /** names whose stored shape differed from the expected one only by trailing 1s (1x1 conv vs Linear), reshaped */
  reshaped: string[];
  /** how many loaded tensors were stored in each dtype (all are returned as float32) */
  storedAs: Partial<Record<DType, number>>;
}

export interface LoadedComponent {
  weights: Map<string, HostTensor>;
  report: LoadReport;
}

/** One tensor a checkpoint offers for a component, under its diffusers name. */
interface Offer {
  key: string;
  name: string;
  shape: number[];
  dtype: DType;
  read: (shape: number[]) => HostTensor;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
function trimOnes(s: readonly number[]): number[] {
  let n = s.length;
  while (n > 1 && s[n - 1] === 1) n--;
  return s.slice(0, n);
}

function assemble(component: ComponentName, files: string[], offers: Iterable<Offer>, expected: ShapeTable, report0: { unexpected: string[]; ignored: string[] }): LoadedComponent {
  const weights = new Map<string, HostTensor>();
  const report: LoadReport = {
    component, files, loaded: 0, missing: [], unexpected: [...report0.unexpected], misshaped: [], ignored: [...report0.ignored], reshaped: [], storedAs: {},
  };
  const seen = new Set<string>();
  for (const o of offers) {
    if (KNOWN_BUFFERS.has(o.name)) { report.ignored.push(o.key); continue; }
    const want = expected.get(o.name);
    if (!want || seen.has(o.name)) { report.unexpected.push(o.key); continue; }
    seen.add(o.name);
    let shape = o.shape;
    if (!sameShape(shape, want)) {
      const reshapable = sameShape(trimOnes(shape), trimOnes(want));
      if (!reshapable) { report.misshaped.push({ name: o.name, key: o.key, expected: [...want], found: [...shape] }); continue; }
      report.reshaped.push(o.name);
      shape = want;
    }
    weights.set(o.name, o.read([...shape]));
    report.storedAs[o.dtype] = (report.storedAs[o.dtype] ?? 0) + 1;
  }
  report.missing = [...expected.keys()].filter((n) => !seen.has(n));
  report.loaded = weights.size;
  return { weights, report };
}

/** A readable account of what did not match. */
export function formatReport(r: LoadReport, max = 8): string {
  const list = (xs: string[]) => xs.slice(0, max).join(', ') + (xs.length > max ? `, ... (${xs.length} in all)` : '');
  const lines = [`${r.component} from ${r.files.join(', ')}: loaded ${r.loaded}`];
  if (r.missing.length) lines.push(`missing ${r.missing.length}: ${list(r.missing)}`);
  if (r.unexpected.length) lines.push(`unexpected ${r.unexpected.length}: ${list(r.unexpected)}`);
  if (r.misshaped.length) {
    lines.push(`misshaped ${r.misshaped.length}: ${list(r.misshaped.map((m) => `${m.key} is ${shapeStr(m.found)}, expected ${shapeStr(m.expected)}`))}`);
  }
  return lines.join('\n');
}

/**
 * Loads one component in diffusers/transformers naming as float32 (16-bit data converted while reading), checked
 * against `expected`. Only expected tensors are read; the report lists what did not match.
 */
export function loadComponent(ckpt: Checkpoint, component: ComponentName, o: LoadOptions = {}): LoadedComponent {
  if (!checkpointComponents(ckpt).includes(component)) throw new CheckpointError(`checkpoint ${ckpt.path} has no ${component} weights`, ckpt.path);
  const expected = o.expected ?? componentShapes(component, o.layout ?? SD15);
  const result =
    ckpt.kind === 'ldm' ? loadLdm(ckpt, component, expected, o)
      : ckpt.kind === 'diffusers' ? loadDiffusers(ckpt, component, expected)
        : loadOnnx(ckpt, component, expected);
  const r = result.report;
  if (o.strict && (r.missing.length || r.unexpected.length || r.misshaped.length)) {
    throw new CheckpointError(`checkpoint does not match the model:\n${formatReport(r)}`, ckpt.path);
  }
  return result;
}

function loadLdm(ckpt: LdmCheckpoint, component: ComponentName, expected: ShapeTable, o: LoadOptions): LoadedComponent {
  const reader = new Float32Reader(openChecked(ckpt.path));
  try {
    const st = reader.file;
    if (o.ema && component === 'unet' && !ckpt.hasEma) throw new CheckpointError(`${ckpt.path} has no EMA weights (model_ema.*)`, ckpt.path);
    const unexpected: string[] = [];
    const ignored: string[] = [];
    const offers: Offer[] = [];
    for (const key of st.names()) {
      if (!key.startsWith(LDM_PREFIX[component])) continue;
      if (isLdmBookkeeping(key)) { ignored.push(key); continue; }
      const mapped = ldmToDiffusers(key, o.layout ?? SD15);
      if (!mapped) { unexpected.push(key); continue; }
      // The EMA copy of a UNet parameter, when asked for, replaces the plain one under the same name.
      const source = o.ema && component === 'unet' && st.has(ldmEmaKey(key)) ? ldmEmaKey(key) : key;
      const info = st.info(source);
      offers.push({ key, name: mapped.name, shape: fromLdmShape(component, mapped.name, info.shape), dtype: info.dtype, read: (shape) => reader.read(source, shape) });
    }
    return assemble(component, [ckpt.path], offers, expected, { unexpected, ignored });
  } finally {
    reader.close();
  }
}

/** Older diffusers files name the VAE attention query/key/value/proj_attn; current diffusers (and we) use to_q/...  */
export function normalizeDiffusersName(component: ComponentName, name: string): string {
  if (component !== 'vae') return name;
  const m = /^(.*\.mid_block\.attentions\.\d+\.)(query|key|value|proj_attn)\.(weight|bias)$/.exec(name);
  if (!m) return name;
  const to = { query: 'to_q', key: 'to_k', value: 'to_v', proj_attn: 'to_out.0' }[m[2] as 'query' | 'key' | 'value' | 'proj_attn'];
  return `${m[1]}${to}.${m[3]}`;
}

function loadDiffusers(ckpt: DiffusersCheckpoint, component: ComponentName, expected: ShapeTable): LoadedComponent {
  const files = ckpt.files[component]!;
  const readers = files.map((f) => new Float32Reader(openChecked(f)));
  try {
    const offers: Offer[] = [];
    for (const reader of readers) {
      for (const key of reader.file.names()) {
        const info = reader.file.info(key);
        offers.push({ key, name: normalizeDiffusersName(component, key), shape: info.shape, dtype: info.dtype, read: (shape) => reader.read(key, shape) });
      }
    }
    return assemble(component, files, offers, expected, { unexpected: [], ignored: [] });
  } finally {
    for (const r of readers) r.close();
  }
}

const FLOAT: ReadonlySet<DType> = new Set(['float32', 'float16', 'bfloat16', 'float64']);

function loadOnnx(ckpt: OnnxCheckpoint, component: ComponentName, expected: ShapeTable): LoadedComponent {
  const files = (component === 'vae' ? [ckpt.files.vae_encoder, ckpt.files.vae_decoder] : [ckpt.files[component]]).filter((f): f is string => !!f);
  const offers: Offer[] = [];
  const ignored: string[] = [];
  for (const file of files) {
    let graph;
    try {
      graph = loadModel(file);
    } catch (e) {
      throw new CheckpointError(`cannot read ONNX model ${file}: ${(e as Error).message}`, file);
    }
    for (const [name, t] of graph.initializers) {
      // Integer initializers are shapes and indices, not weights.
      if (!FLOAT.has(t.dtype)) { ignored.push(name); continue; }
      offers.push({
        key: name, name, shape: t.shape, dtype: t.dtype,
        read: (shape) => ({ ...toFloat32(t, `${file}: initializer "${name}"`), shape }),
      });
    }
  }
  return assemble(component, files, offers, expected, { unexpected: [], ignored });
}
