// ComfyUI's PrimitiveStringMultiline: a text value edited in a text box (prompts, lists).
import { defineNode } from './common/define-node.js';

export const PrimitiveStringMultiline = defineNode({
  type: 'PrimitiveStringMultiline',
  displayName: 'String (Multiline)',
  category: 'utils/primitive',
  description: 'A multi-line text value.',
  inputs: { value: { type: 'STRING', default: '', multiline: true } },
  outputs: [{ name: 'STRING', type: 'STRING' }],
  async run(inputs) {
    return { outputs: [inputs.value] };
  },
});
