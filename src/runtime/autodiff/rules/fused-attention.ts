// Attention's Softmax(S) @ V, differentiated as one piece. With A = softmax(S) and dA = dO V^T, the softmax rule
// needs rowsum(dA * A), a pass over the [.., N, M] score-sized tensors; but rowsum_m(dA * A) = rowsum_d(dO * O)
// (O = A V), a pass over the [.., N, d] output instead (FlashAttention's trick), so dS = A * (dA - rowsum(dO * O))
// takes two score-sized passes where the softmax rule takes four.
import { attrInt } from '../../onnx/ir.js';
import * as op from '../../onnx/ops/index.js';
import type { FusedMatcher, FusedRules } from '../fused.js';
import { unbroadcast } from './util.js';

const softmaxMatMul: FusedMatcher = (node, g) => {
  const [attnName, vName] = node.inputs;
  const softmax = g.producedBy(attnName, 'Softmax');
  if (!softmax || g.useCount(attnName) !== 1) return undefined;
  const rank = g.graph.info(attnName).shape.length;
  const axis = attrInt(softmax, 'axis', -1);
  if (rank < 2 || g.graph.info(vName).shape.length !== rank || (axis !== -1 && axis !== rank - 1)) return undefined;
  return {
    inputs: [softmax.inputs[0], vName],
    grads: (b, dO, needs) => {
      const attn = b.sym(attnName), v = b.sym(vName);
      const dS = needs[0]
        ? op.mul(attn, op.sub(op.matmulT(dO, v, false, true), op.reduceSum(op.mul(dO, b.sym(node.outputs[0])), [rank - 1], true)))
        : undefined;
      const dV = needs[1] ? unbroadcast(op.matmulT(attn, dO, true, false), v.shape) : undefined;
      return [dS, dV];
    },
  };
};

/** Softmax(S) @ V, matched at the MatMul (rules/table.ts assembles every file's rules). */
export const fusedAttentionRules: FusedRules = { MatMul: softmaxMatMul };
