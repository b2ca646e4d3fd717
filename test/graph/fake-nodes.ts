// A small registry for graph tests: ComfyUI's default text-to-image nodes (same names, inputs and widget order, so
// real ComfyUI workflow files map onto them) plus a few nodes for the other input kinds. run() does nothing useful.
import { defineNode, type Folders, type NodeDefinition } from '../../src/runtime/graph/node-api.js';
import { NodeRegistry } from '../../src/runtime/graph/registry.js';

const run = async () => ({ outputs: [] });

export const folders: Folders = { input: '/tmp/in', output: '/tmp/out', temp: '/tmp/tmp', models: '/tmp/models' };

export const SAMPLERS = ['euler', 'euler_ancestral', 'dpmpp_2m', 'ddim'];
export const SCHEDULERS = ['normal', 'karras', 'simple'];

export const fakeNodes: NodeDefinition[] = [
  defineNode({
    type: 'CheckpointLoaderSimple',
    displayName: 'Load Checkpoint',
    category: 'loaders',
    description: '',
    inputs: { ckpt_name: { type: 'COMBO', options: ['v1-5.safetensors', 'tiny.safetensors'] } },
    outputs: [
      { name: 'MODEL', type: 'MODEL' },
      { name: 'CLIP', type: 'CLIP' },
      { name: 'VAE', type: 'VAE' },
    ],
    run,
  }),
  defineNode({
    type: 'CLIPTextEncode',
    displayName: 'CLIP Text Encode (Prompt)',
    category: 'conditioning',
    description: '',
    inputs: { text: { type: 'STRING', multiline: true }, clip: { type: 'CLIP', link: true } },
    outputs: [{ name: 'CONDITIONING', type: 'CONDITIONING' }],
    run,
  }),
  defineNode({
    type: 'EmptyLatentImage',
    displayName: 'Empty Latent Image',
    category: 'latent',
    description: '',
    inputs: {
      width: { type: 'INT', default: 512, min: 16, max: 16384, step: 8 },
      height: { type: 'INT', default: 512, min: 16, max: 16384, step: 8 },
      batch_size: { type: 'INT', default: 1, min: 1, max: 4096 },
    },
    outputs: [{ name: 'LATENT', type: 'LATENT' }],
    run,
  }),
  defineNode({
    type: 'KSampler',
    displayName: 'KSampler',
    category: 'sampling',
    description: '',
    inputs: {
      model: { type: 'MODEL', link: true },
      seed: { type: 'INT', default: 0, min: 0, max: 0xffffffffffffffff, controlAfterGenerate: true },
      steps: { type: 'INT', default: 20, min: 1, max: 10000 },
      cfg: { type: 'FLOAT', default: 8, min: 0, max: 100, step: 0.1, round: 0.01 },
      sampler_name: { type: 'COMBO', options: SAMPLERS },
      scheduler: { type: 'COMBO', options: SCHEDULERS },
      positive: { type: 'CONDITIONING', link: true },
      negative: { type: 'CONDITIONING', link: true },
      latent_image: { type: 'LATENT', link: true },
      denoise: { type: 'FLOAT', default: 1, min: 0, max: 1, step: 0.01 },
    },
    outputs: [{ name: 'LATENT', type: 'LATENT' }],
    run,
  }),
  defineNode({
    type: 'VAEDecode',
    displayName: 'VAE Decode',
    category: 'latent',
    description: '',
    inputs: { samples: { type: 'LATENT', link: true }, vae: { type: 'VAE', link: true } },
    outputs: [{ name: 'IMAGE', type: 'IMAGE' }],
    run,
  }),
  defineNode({
    type: 'SaveImage',
    displayName: 'Save Image',
    category: 'image',
    description: '',
    inputs: { images: { type: 'IMAGE', link: true }, filename_prefix: { type: 'STRING', default: 'ComfyUI' } },
    outputs: [],
    outputNode: true,
    run,
  }),
  defineNode({
    type: 'LoadImage',
    displayName: 'Load Image',
    category: 'image',
    description: '',
    // Choices computed from the input folder, as ComfyUI lists input files.
    inputs: { image: { type: 'COMBO', options: (f: Folders) => (f.input === '/tmp/in' ? ['example.png', 'cat.png'] : []), imageUpload: true } },
    outputs: [
      { name: 'IMAGE', type: 'IMAGE' },
      { name: 'MASK', type: 'MASK' },
    ],
    run,
  }),
  defineNode({
    type: 'ImageInvert',
    displayName: 'Invert Image',
    category: 'image',
    description: '',
    inputs: {
      image: { type: 'IMAGE', link: true },
      mask: { type: 'MASK', link: true, optional: true },
      enabled: { type: 'BOOLEAN', default: true, optional: true },
      strength: { type: 'FLOAT', min: 0.5, max: 2, optional: true },
    },
    outputs: [{ name: 'IMAGE', type: 'IMAGE' }],
    run,
  }),
  defineNode({
    type: 'StringConcat',
    displayName: 'Concatenate',
    category: 'text',
    description: '',
    inputs: { a: { type: 'STRING' }, b: { type: 'STRING' }, sep: { type: 'STRING', default: ' ', optional: true } },
    outputs: [{ name: 'STRING', type: 'STRING' }],
    run,
  }),
  defineNode({
    type: 'ShowAny',
    displayName: 'Show Anything',
    category: 'utils',
    description: '',
    inputs: { value: { type: '*', link: true }, count: { type: 'INT', forceInput: true, optional: true } },
    outputs: [],
    outputNode: true,
    run,
  }),
  defineNode({
    type: 'ResizeCheck',
    displayName: 'Resize (multiple of 8)',
    category: 'image',
    description: '',
    inputs: {
      image: { type: 'IMAGE', link: true },
      width: { type: 'INT', default: 64, min: 8, max: 4096 },
      height: { type: 'INT', default: 64, min: 8, max: 4096 },
    },
    outputs: [{ name: 'IMAGE', type: 'IMAGE' }],
    validate: (inputs) =>
      (inputs.width as number) % 8 !== 0 || (inputs.height as number) % 8 !== 0 ? `width and height must be multiples of 8, got ${inputs.width}x${inputs.height}` : undefined,
    run,
  }),
  defineNode({
    type: 'ThrowingValidate',
    displayName: 'Throws in validate',
    category: 'test',
    description: '',
    inputs: { x: { type: 'INT', default: 1 } },
    outputs: [{ name: 'INT', type: 'INT' }],
    validate: () => {
      throw new Error('boom');
    },
    run,
  }),
];

export function fakeRegistry(): NodeRegistry {
  return new NodeRegistry(fakeNodes);
}
