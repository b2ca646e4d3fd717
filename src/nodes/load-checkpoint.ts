// ComfyUI's CheckpointLoaderSimple for InstructBooth: the embedded default model or an SD1.5 checkpoint, as MODEL,
// CLIP and VAE, with where it runs (CUDA when available, else CPU).
import { cudaAvailable } from '../runtime/engine/session.js';
import { machineAdapters } from '../runtime/engine/gpu-adapter.js';
import { loadOnnxExport } from '../runtime/models/onnx-export.js';
import { loadSdModel } from '../runtime/models/sd-model.js';
import { detectCheckpoint } from '../runtime/models/weights/checkpoint.js';
import { checkpointFingerprint, EMBEDDED, findTokenizer, listCheckpoints, resolveCheckpoint } from './common/checkpoints.js';
import { defineNode } from './common/define-node.js';
import type { AnyModelHandle } from './common/model.js';
import { deriveId } from './common/model.js';

export const LoadCheckpoint = defineNode({
  type: 'LoadCheckpoint',
  displayName: 'Load Checkpoint',
  category: 'loaders',
  description:
    'Loads a Stable Diffusion 1.x model: the embedded default (tiny, trained by this project on its generated world) or a checkpoint ' +
    'in models/checkpoints (single-file .safetensors, a diffusers folder, or an ONNX export in Optimum\'s layout, which samples but cannot train). ' +
    'Outputs the UNet (MODEL), text encoder (CLIP) and VAE.',
  inputs: {
    ckpt_name: { type: 'COMBO', options: listCheckpoints, default: EMBEDDED, tooltip: '"embedded" needs no download; SD1.5 files go in models/checkpoints.' },
    device: {
      type: 'COMBO', options: ['auto', 'cpu', 'cuda', 'webgpu'], default: 'auto',
      tooltip: 'auto: CUDA when onnxruntime-node has its CUDA provider, else WebGPU on a GPU adapter (Vulkan, D3D12 or Metal), else the CPU. webgpu also runs on a software adapter such as lavapipe (slow; for checking).',
    },
    threads: { type: 'INT', default: 0, min: 0, max: 256, tooltip: 'CPU threads per session (0: all cores).' },
    precision: {
      type: 'COMBO', options: ['fp32', 'fp16'], default: 'fp32', optional: true,
      tooltip: 'Sampling precision. fp16 halves the weights\' memory and is fast on GPUs (on a CPU it runs, slower). Training runs in fp32. An ONNX export keeps its own.',
    },
  },
  outputs: [
    { name: 'MODEL', type: 'MODEL' },
    { name: 'CLIP', type: 'CLIP' },
    { name: 'VAE', type: 'VAE' },
  ],
  isChanged: (inputs, folders) => {
    const r = resolveCheckpoint(String(inputs.ckpt_name), folders);
    return 'error' in r ? `error:${r.error}` : checkpointFingerprint(r.path);
  },
  validate: (inputs, folders) => {
    const r = resolveCheckpoint(inputs.ckpt_name ?? '', folders);
    if ('error' in r) return r.error;
    if (inputs.device === 'cuda' && !cudaAvailable()) return 'device cuda: onnxruntime-node has no CUDA provider here (on a machine with CUDA 12, fetch its CUDA libraries: ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js; README, CUDA)';
    if (inputs.device === 'webgpu' && machineAdapters().length === 0) return 'device webgpu: no WebGPU adapter here (on Linux: libvulkan1 and a Vulkan driver for the GPU)';
    return undefined;
  },
  async run(inputs, ctx) {
    const name = inputs.ckpt_name;
    const r = resolveCheckpoint(name, ctx.folders);
    if ('error' in r) throw new Error(r.error);
    const ckpt = detectCheckpoint(r.path);
    const tokenizerDir = ckpt.kind === 'ldm' || (ckpt.kind === 'onnx' && !ckpt.tokenizer) ? findTokenizer(r.path, ctx.folders) : undefined;
    if (ckpt.kind === 'ldm' && !tokenizerDir)
      throw new Error(`${name} is a single-file checkpoint without tokenizer files: put CLIP's vocab.json and merges.txt in models/tokenizers/clip-vit-large-patch14/`);
    ctx.progress(0, 1, `loading ${name}`);
    // An ONNX export computes in the precision it was exported in.
    const precision = inputs.precision === 'fp16' && ckpt.kind !== 'onnx' ? 'fp16' : 'fp32';
    const common = {
      loraStrength: 1,
      sessionOptions: { provider: inputs.device, threads: inputs.threads || undefined },
      precision,
      // fp16 samples differ a little from fp32 ones: disk caches keyed by the id must not mix them.
      id: deriveId(`checkpoint:${name}`, precision === 'fp16' ? `${checkpointFingerprint(r.path)}|fp16` : checkpointFingerprint(r.path)),
      label: precision === 'fp16' ? `${name} (fp16)` : name,
    } as const;
    // An ONNX export keeps its own sessions (its weights are compiled in): a MODEL that samples but does not train.
    const handle: AnyModelHandle = ckpt.kind === 'onnx' ? { ...common, exported: loadOnnxExport(r.path, { tokenizerDir }) } : { ...common, model: loadSdModel(r.path, { tokenizerDir }) };
    ctx.progress(1, 1);
    return { outputs: [handle, handle, handle] };
  },
});
