// ComfyUI's PrimitiveString (comfy_extras/nodes_primitive.py): a value typed once, fed to many inputs.
import { defineNode } from './common/define-node.js';

export const PrimitiveString = defineNode({
  type: 'PrimitiveString',
  displayName: 'String',
  category: 'utils/primitive',
  description: 'A text value.',
  inputs: { value: { type: 'STRING', default: '' } },
  outputs: [{ name: 'STRING', type: 'STRING' }],
  async run(inputs) {
    return { outputs: [inputs.value] };
  },
});
