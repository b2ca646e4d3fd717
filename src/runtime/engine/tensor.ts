// Moved to onnx/tensor.ts (engine runs the IR and depends on onnx, never the reverse); this re-export keeps the
// importers that have not moved yet compiling. Import from '../onnx/tensor.js'.
export * from '../onnx/tensor.js';
