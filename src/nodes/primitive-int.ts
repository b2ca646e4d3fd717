// ComfyUI's PrimitiveInt. Its range is +-sys.maxsize there; here the largest integers a JS number holds exactly.
import { defineNode } from './common/define-node.js';

export const PrimitiveInt = defineNode({
  type: 'PrimitiveInt',
  displayName: 'Int',
  category: 'utils/primitive',
  description: 'An integer value (a seed, a step count...); the editor can change it after each run.',
  inputs: {
    value: { type: 'INT', default: 0, min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, controlAfterGenerate: true },
  },
  outputs: [{ name: 'INT', type: 'INT' }],
  async run(inputs) {
    return { outputs: [inputs.value] };
  },
});
