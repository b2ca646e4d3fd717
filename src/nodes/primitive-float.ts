// ComfyUI's PrimitiveFloat (range +-sys.maxsize there, step 0.1).
import { defineNode } from './common/define-node.js';

export const PrimitiveFloat = defineNode({
  type: 'PrimitiveFloat',
  displayName: 'Float',
  category: 'utils/primitive',
  description: 'A number value.',
  inputs: { value: { type: 'FLOAT', default: 0, min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, step: 0.1 } },
  outputs: [{ name: 'FLOAT', type: 'FLOAT' }],
  async run(inputs) {
    return { outputs: [inputs.value] };
  },
});
