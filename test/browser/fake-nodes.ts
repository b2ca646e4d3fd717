// The node set the fake server offers: ComfyUI's text-to-image nodes from the graph tests, the project's real
// prompt/image nodes, and schema-only stand-ins for the training nodes of issues 7 and 8 (names, inputs and widget
// kinds as planned), so the editor is exercised on every widget kind and on training nodes before they land.
import { defineNode, type NodeDefinition } from '../../src/runtime/graph/node-api.js';
import { NodeRegistry } from '../../src/runtime/graph/registry.js';
import { LoadSubjectImages } from '../../src/nodes/load-subject-images.js';
import { PreviewImage } from '../../src/nodes/preview-image.js';
import { PromptTemplate } from '../../src/nodes/prompt-template.js';
import { fakeNodes } from '../graph/fake-nodes.js';

const run = async () => ({ outputs: [] });

export const trainingNodes: NodeDefinition[] = [
  defineNode({
    type: 'LoadCheckpoint',
    displayName: 'Load Checkpoint (SD)',
    category: 'instructbooth/loaders',
    description: 'The embedded model or an SD1.5 checkpoint.',
    inputs: {
      ckpt_name: { type: 'COMBO', options: ['embedded (tiny world model)', 'v1-5-pruned-emaonly.safetensors'] },
      provider: { type: 'COMBO', options: ['auto', 'cpu', 'cuda'] },
      precision: { type: 'COMBO', options: ['fp32', 'fp16'] },
    },
    outputs: [
      { name: 'MODEL', type: 'MODEL' },
      { name: 'CLIP', type: 'CLIP' },
      { name: 'VAE', type: 'VAE' },
    ],
    run,
  }),
  defineNode({
    type: 'DreamBoothTrain',
    displayName: 'DreamBooth Train',
    category: 'instructbooth/training',
    description: 'Fine-tunes the model on the subject images with prior preservation.',
    inputs: {
      model: { type: 'MODEL', link: true },
      subject_images: { type: 'IMAGE', link: true },
      instance_prompt: { type: 'STRING', forceInput: true },
      class_prompt: { type: 'STRING', forceInput: true },
      class_images: { type: 'IMAGE', link: true, optional: true },
      mode: { type: 'COMBO', options: ['full', 'lora'], default: 'full' },
      steps: { type: 'INT', default: 400, min: 1, max: 100000 },
      learning_rate: { type: 'FLOAT', default: 5e-6, min: 0, max: 1, step: 1e-7 },
      prior_loss_weight: { type: 'FLOAT', default: 1, min: 0, max: 10, step: 0.1 },
      batch_size: { type: 'INT', default: 1, min: 1, max: 64 },
      seed: { type: 'INT', default: 0, min: 0, max: 0xffffffffffffffff, controlAfterGenerate: true },
      random_flip: { type: 'BOOLEAN', default: true },
      checkpoint_every: { type: 'INT', default: 100, min: 0, max: 100000 },
    },
    outputs: [{ name: 'MODEL', type: 'MODEL' }],
    run,
  }),
  defineNode({
    type: 'LoadRewardModel',
    displayName: 'Load Reward Model',
    category: 'instructbooth/rewards',
    description: 'ImageReward, PickScore or CLIP exported to ONNX, or the world oracle.',
    inputs: { reward: { type: 'COMBO', options: ['world oracle', 'tiny CLIP', 'ImageReward.onnx'] } },
    outputs: [{ name: 'REWARD_MODEL', type: 'REWARD_MODEL' }],
    run,
  }),
  defineNode({
    type: 'DDPOUpdate',
    displayName: 'DDPO Update (InstructBooth)',
    category: 'instructbooth/training',
    description: 'Aligns the personalized model to the prompts with RL.',
    inputs: {
      model: { type: 'MODEL', link: true },
      reward_model: { type: 'REWARD_MODEL', link: true },
      prompts: { type: 'PROMPTS', link: true },
      epochs: { type: 'INT', default: 50, min: 1, max: 10000 },
      learning_rate: { type: 'FLOAT', default: 3e-4, min: 0, max: 1, step: 1e-5 },
      lora_rank: { type: 'INT', default: 4, min: 1, max: 128 },
      clip_range: { type: 'FLOAT', default: 1e-4, min: 0, max: 1, step: 1e-5 },
      kl_weight: { type: 'FLOAT', default: 0, min: 0, max: 10, step: 0.01, optional: true },
    },
    outputs: [{ name: 'MODEL', type: 'MODEL' }],
    run,
  }),
  defineNode({
    type: 'Sample',
    displayName: 'Sample',
    category: 'instructbooth/sampling',
    description: 'Generates images from prompts.',
    inputs: {
      model: { type: 'MODEL', link: true },
      prompt: { type: 'STRING', multiline: true, default: 'a photo of sks cat riding a bicycle' },
      sampler: { type: 'COMBO', options: ['ddim', 'euler_ancestral'] },
      steps: { type: 'INT', default: 25, min: 1, max: 1000 },
      guidance: { type: 'FLOAT', default: 7.5, min: 0, max: 30, step: 0.5 },
      seed: { type: 'INT', default: 0, min: 0, max: 0xffffffffffffffff, controlAfterGenerate: true },
      batch_size: { type: 'INT', default: 4, min: 1, max: 64 },
    },
    outputs: [{ name: 'IMAGE', type: 'IMAGE' }],
    run,
  }),
];

export function fakeObjectInfoRegistry(): NodeRegistry {
  return new NodeRegistry([...fakeNodes, LoadSubjectImages, PreviewImage, PromptTemplate, ...trainingNodes]);
}
