// SiLU as the layers build it, x * Sigmoid(x): d/dx = s (1 + x (1 - s)) = s (1 + x - y) with y = x s, four passes
// over the activations where the product and sigmoid rules take six.
import * as op from '../../onnx/ops/index.js';
import type { FusedMatcher, FusedRules } from '../fused.js';

const silu: FusedMatcher = (node, g) => {
  const [a, c] = node.inputs;
  const sig = [c, a].findIndex((s, i) => g.producedBy(s, 'Sigmoid')?.inputs[0] === (i === 0 ? a : c));
  if (sig < 0) return undefined;
  const x = sig === 0 ? a : c;
  const s = sig === 0 ? c : a;
  return {
    inputs: [x],
    grads: (b, dy) => [op.mul(dy, op.mul(b.sym(s), op.add(op.sub(b.sym(x), b.sym(node.outputs[0])), 1)))],
  };
};

/** SiLU, matched at its Mul (rules/table.ts assembles every file's rules). */
export const fusedSiluRules: FusedRules = { Mul: silu };
