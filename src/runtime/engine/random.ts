// Moved to onnx/random.ts (engine runs the IR and depends on onnx, never the reverse); this re-export keeps the
// importers that have not moved yet compiling. Import from '../onnx/random.js'.
export * from '../onnx/random.js';
