// GroupNorm as layers.groupNorm builds it: Reshape [N, G, L] -> LayerNormalization (unit affine) -> Reshape back ->
// Mul gamma -> Add beta. With xn the normalized input, per-(n, c) sums S1 = sum dy and S2 = sum dy xn over the
// spatial axes give everything else on tiny tensors: dbeta = sum_n S1, dgamma = sum_n S2, and with the group means
// m1 = sum_{c in g} gamma_c S1 / L, m2 = sum_{c in g} gamma_c S2 / L,
//   dx = invsig (gamma dy - m1 - xn m2) = dy (gamma invsig) - (xn (invsig m2) + invsig m1)
// which is 3 passes for the sums and 4 for dx, where node by node it takes 11.
import type { Sym } from '../../onnx/builder.js';
import { attrInt } from '../../onnx/ir.js';
import * as op from '../../onnx/ops/index.js';
import type { FusedMatcher, FusedRules } from '../fused.js';

const groupNormAffine: FusedMatcher = (node, g) => {
  const [mulOut, betaB] = node.inputs;
  const mul = g.producedBy(mulOut, 'Mul');
  const back = mul && g.producedBy(mul.inputs[0], 'Reshape');
  const ln = back && g.producedBy(back.inputs[0], 'LayerNormalization');
  const grouped = ln && g.producedBy(ln.inputs[0], 'Reshape');
  if (!mul || !back || !ln || !grouped || ln.outputs[0] !== back.inputs[0]) return undefined;
  // Inner values must feed only the next node of the pattern (else they need gradients of their own).
  if ([mulOut, mul.inputs[0], back.inputs[0]].some((v) => g.useCount(v) !== 1)) return undefined;
  if (!g.isConstantAll(ln.inputs[1], 1) || (ln.inputs[2] && !g.isConstantAll(ln.inputs[2], 0))) return undefined;
  if (!ln.outputs[1] || !ln.outputs[2]) return undefined;
  const x = grouped.inputs[0];
  const gammaB = mul.inputs[1];
  const xShape = g.graph.info(x).shape;
  const gShape = g.graph.info(ln.inputs[0]).shape;
  const cShape = [xShape[1], ...xShape.slice(2).map(() => 1)];
  const sameShape = (name: string) => { const s = g.graph.info(name).shape; return s.length === cShape.length && s.every((d, i) => d === cShape[i]); };
  const axis = attrInt(ln, 'axis', -1);
  if (gShape.length !== 3 || (axis !== 2 && axis !== -1) || !sameShape(gammaB) || !sameShape(betaB)) return undefined;
  return {
    inputs: [x, gammaB, betaB],
    grads: (b, dy, needs) => {
      const [n, c] = xShape;
      const groups = gShape[1];
      const spatial = xShape.slice(2).map((_, i) => i + 2);
      const xn = b.sym(mul.inputs[0]);
      const gamma = b.sym(gammaB);
      const s1 = op.reduceSum(dy, spatial, true); // [N, C, 1...]
      const s2 = op.reduceSum(op.mul(dy, xn), spatial, true);
      const sumBatch = (t: Sym) => op.reshape(op.reduceSum(t, [0], false), cShape);
      // Per-group means of gamma*S over the group's L values, broadcast back to its channels: [N, C, 1...].
      const perGroup = (s: Sym) => {
        const m = op.reduceSum(op.reshape(op.mul(s, gamma), [n, groups, c / groups]), [2], true);
        return op.reshape(op.expand(op.mul(m, 1 / gShape[2]), [n, groups, c / groups]), [n, c, ...cShape.slice(1)]);
      };
      const invsig = op.reshape(op.expand(b.sym(ln.outputs[2]), [n, groups, c / groups]), [n, c, ...cShape.slice(1)]);
      let dx: Sym | undefined;
      if (needs[0]) {
        const a = op.mul(invsig, gamma);
        const bCoef = op.mul(invsig, perGroup(s2));
        const cCoef = op.mul(invsig, perGroup(s1));
        dx = op.sub(op.mul(dy, a), op.add(op.mul(xn, bCoef), cCoef));
      }
      return [dx, needs[1] ? sumBatch(s2) : undefined, needs[2] ? sumBatch(s1) : undefined];
    },
  };
};

/** GroupNorm, matched at its bias Add (rules/table.ts assembles every file's rules). */
export const fusedGroupNormRules: FusedRules = { Add: groupNormAffine };
