// ComfyUI's PrimitiveBoolean.
import { defineNode } from './common/define-node.js';

export const PrimitiveBoolean = defineNode({
  type: 'PrimitiveBoolean',
  displayName: 'Boolean',
  category: 'utils/primitive',
  description: 'A true/false value.',
  inputs: { value: { type: 'BOOLEAN', default: false } },
  outputs: [{ name: 'BOOLEAN', type: 'BOOLEAN' }],
  async run(inputs) {
    return { outputs: [inputs.value] };
  },
});
