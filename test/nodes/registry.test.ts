import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinNodes, createRegistry } from '../../src/nodes/index.js';
import { makeFolders } from './fake-context.js';

test('the registry holds every built-in node once', () => {
  const reg = createRegistry();
  assert.deepEqual(reg.types().sort(), builtinNodes.map((n) => n.type).sort());
  // The pipeline of the paper, end to end, and ComfyUI's basics.
  for (const t of ['LoadSubjectImages', 'PromptTemplate', 'LoadCheckpoint', 'PriorClassGen', 'Sample', 'SaveLoRA', 'LoadImage', 'SaveImage', 'PreviewImage'])
    assert.ok(reg.types().includes(t), t);
});

test('objectInfo in ComfyUI\'s shape', async () => {
  const f = await makeFolders();
  try {
    const info = createRegistry().objectInfo(f);
    const save = info.SaveImage;
    assert.deepEqual(save.input.required.images, ['IMAGE', { tooltip: 'The images to save.' }]);
    assert.deepEqual(save.input.required.filename_prefix[0], 'STRING');
    assert.equal((save.input.required.filename_prefix[1] as { default: string }).default, 'instructbooth');
    assert.deepEqual(save.input.optional, {});
    assert.deepEqual(save.input_order, { required: ['images', 'filename_prefix'], optional: [] });
    assert.deepEqual([save.output, save.output_name, save.output_node, save.category, save.name], [[], [], true, 'image', 'SaveImage']);

    const load = info.LoadImage;
    assert.deepEqual([load.output, load.output_name, load.output_is_list, load.output_node], [['IMAGE', 'MASK'], ['IMAGE', 'MASK'], [false, false], false]);

    const subj = info.LoadSubjectImages;
    assert.deepEqual(subj.input.required.resolution, ['INT', { tooltip: 'Side of the square training images, in pixels.', default: 512, min: 8, max: 2048, step: 8 }]);
    assert.deepEqual([subj.output, subj.output_name], [['IMAGE', 'INT'], ['images', 'count']]);

    const pt = info.PromptTemplate;
    assert.deepEqual(pt.input_order, { required: ['identifier', 'class_noun', 'description', 'activities', 'identifier_ratio'], optional: [] });
    assert.deepEqual(pt.output, ['PROMPTS', 'STRING', 'STRING']);
    assert.deepEqual(pt.output_name, ['prompts', 'instance_prompt', 'class_prompt']);
    assert.equal(pt.category, 'instructbooth/prompts');
    assert.equal((pt.input.required.activities[1] as { multiline: boolean }).multiline, true);
    assert.deepEqual(pt.input.required.identifier_ratio.slice(1).map((o) => { const { tooltip: _t, ...rest } = o as Record<string, unknown>; return rest; }), [{ default: 0.5, min: 0, max: 1, step: 0.05 }]);

    assert.deepEqual(info.ImageGrid.input_order.required, ['images', 'columns', 'padding', 'background']);
    assert.equal(info.PreviewImage.output_node, true);
    // Every entry serializes (what /object_info sends).
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(info)));
  } finally {
    await f.cleanup();
  }
});

test('every sampling-steps value a node admits runs through the SD1.5 schedule (DDIM and Euler ancestral)', async () => {
  const { NoiseSchedule, loadSchedulerConfig } = await import('../../src/runtime/diffusion/schedule.js');
  const { ddimCoefficients, ddimTimesteps } = await import('../../src/runtime/diffusion/ddim.js');
  const { eulerAncestralPlan } = await import('../../src/runtime/diffusion/euler-ancestral.js');
  const { sampleLatents } = await import('../../src/runtime/diffusion/sampler.js');
  const { f32 } = await import('../../src/runtime/onnx/tensor.js');
  const reg = createRegistry();
  const sampling = ['Sample', 'Evaluate', 'PriorClassGen', 'DDPOUpdate'];
  // Every node with a `steps` input but DreamBoothTrain (training steps) samples with it.
  assert.deepEqual(reg.all().filter((d) => 'steps' in d.inputs && d.type !== 'DreamBoothTrain').map((d) => d.type).sort(), [...sampling].sort());
  // SD1.5's schedule, and the embedded model's (leading spacing, steps_offset 1).
  const schedules = [new NoiseSchedule(), new NoiseSchedule(loadSchedulerConfig('models/embedded'))];
  // A denoiser that predicts no noise: the run itself is what is checked.
  const zero = { predict: async (x: { shape: readonly number[]; data: unknown }) => f32([...x.shape], new Float32Array((x.data as Float32Array).length)) };
  for (const type of sampling) {
    const spec = reg.get(type)!.inputs.steps as { min: number; max: number };
    for (const schedule of schedules)
      for (const steps of [spec.min, spec.max]) {
        const { timesteps, prevTimesteps } = ddimTimesteps(schedule, steps);
        assert.equal(timesteps.length, steps);
        for (let i = 0; i < steps; i++) ddimCoefficients(schedule, timesteps[i], prevTimesteps[i], 1);
        eulerAncestralPlan(schedule, steps);
        for (const scheduler of ['ddim', 'euler_a'] as const) {
          const r = await sampleLatents(zero as never, schedule, { scheduler, steps, cond: f32([1, 1, 1], new Float32Array(1)), guidance: 1, latentShape: [1, 1, 1], seeds: [1], eta: scheduler === 'ddim' ? 1 : 0 });
          assert.ok(Number.isFinite((r.latents.data as Float32Array)[0]), `${type} steps=${steps} ${scheduler}`);
        }
      }
  }
});
