// Multiply-add counts of the heavy ops in a graph (2 FLOPs per multiply-add), for GFLOP/s figures.
import { numel } from '../src/runtime/onnx/tensor.js';
import { attrInt, type Graph } from '../src/runtime/onnx/ir.js';

export function graphFlops(g: Graph): number {
  let total = 0;
  for (const n of g.nodes) {
    const shape = (name: string) => g.info(name).shape;
    if (n.op === 'Conv') {
      const w = shape(n.inputs[1]);
      total += 2 * numel(shape(n.outputs[0])) * numel(w.slice(1));
    } else if (n.op === 'ConvTranspose') {
      const w = shape(n.inputs[1]);
      total += 2 * numel(shape(n.inputs[0])) * numel(w.slice(1));
    } else if (n.op === 'MatMul' || n.op === 'FusedMatMul' || n.op === 'Gemm') {
      const a = shape(n.inputs[0]);
      const transA = n.op !== 'MatMul' && attrInt(n, 'transA', 0);
      const k = transA ? a[a.length - 2] : a[a.length - 1];
      total += 2 * numel(shape(n.outputs[0])) * k;
    }
  }
  return total;
}
