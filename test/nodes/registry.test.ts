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
