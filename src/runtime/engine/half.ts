// Moved to onnx/half.ts (engine runs the IR and depends on onnx, never the reverse); this re-export keeps the
// importers that have not moved yet compiling. Import from '../onnx/half.js'.
export * from '../onnx/half.js';
