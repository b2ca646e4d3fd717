// Typed op functions over symbolic tensors: `import * as op from '.../onnx/ops/index.js'`.
export * from './math.js';
export * from './nn.js';
export * from './shape.js';
