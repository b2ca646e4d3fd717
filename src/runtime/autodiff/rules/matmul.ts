// Gradients of matrix products: MatMul (numpy batching), FusedMatMul (transposes + alpha) and Gemm.
import type { Sym } from '../../onnx/builder.js';
import { attrFloat, attrInt } from '../../onnx/ir.js';
import * as op from '../../onnx/ops/index.js';
import type { GradRule, GradRules } from '../rule.js';
import { unbroadcast } from './util.js';

/**
 * For C = alpha * op(A) @ op(B) with op a transpose of the last two axes when flagged (operands of rank >= 2):
 * dA = alpha * dC @ op(B)^T (transposed back if A was), dB likewise, then summed over broadcast batch axes.
 */
function matmulGrads(dC: Sym, a: Sym, b: Sym, tA: boolean, tB: boolean, alpha: number, needA: boolean, needB: boolean): [Sym | undefined, Sym | undefined] {
  let dA: Sym | undefined;
  let dB: Sym | undefined;
  if (needA) {
    // op(A) = dC @ op(B)^T; A = op(A)^T when transposed: B^T... written out per case to stay one FusedMatMul.
    dA = tA ? op.matmulT(b, dC, tB, true, alpha) : op.matmulT(dC, b, false, !tB, alpha);
    dA = unbroadcast(dA, a.shape);
  }
  if (needB) {
    dB = tB ? op.matmulT(dC, a, true, tA, alpha) : op.matmulT(a, dC, !tA, false, alpha);
    dB = unbroadcast(dB, b.shape);
  }
  return [dA, dB];
}

const matmulGrad: GradRule = (c) => {
  let [a, b] = c.x as Sym[];
  let dC = c.dy[0]!;
  // Promote 1-D operands as numpy does, then squeeze the gradient back.
  const a1 = a.rank === 1, b1 = b.rank === 1;
  if (a1) { a = op.unsqueeze(a, [0]); dC = op.unsqueeze(dC, [dC.rank - (b1 ? 0 : 1)]); }
  if (b1) { b = op.unsqueeze(b, [1]); dC = op.unsqueeze(dC, [dC.rank]); }
  let [dA, dB] = matmulGrads(dC, a, b, false, false, 1, c.needs[0], c.needs[1]);
  if (dA && a1) dA = op.reshape(dA, [...c.x[0]!.shape]);
  if (dB && b1) dB = op.reshape(dB, [...c.x[1]!.shape]);
  return [dA, dB];
};

const fusedMatmulGrad: GradRule = (c) => {
  const [a, b] = c.x as Sym[];
  if (attrInt(c.node, 'transBatchA', 0) || attrInt(c.node, 'transBatchB', 0))
    throw new Error(`FusedMatMul '${c.node.name}': transBatchA/transBatchB have no gradient rule`);
  return matmulGrads(c.dy[0]!, a, b, !!attrInt(c.node, 'transA', 0), !!attrInt(c.node, 'transB', 0), attrFloat(c.node, 'alpha', 1), c.needs[0], c.needs[1]);
};

const gemmGrad: GradRule = (c) => {
  const [a, b, bias] = c.x as (Sym | undefined)[];
  const dY = c.dy[0]!;
  const tA = !!attrInt(c.node, 'transA', 0), tB = !!attrInt(c.node, 'transB', 0);
  const alpha = attrFloat(c.node, 'alpha', 1), beta = attrFloat(c.node, 'beta', 1);
  // Y = alpha op(A) op(B) + beta C. dop(A) = alpha dY op(B)^T, dop(B) = alpha op(A)^T dY.
  const dA = c.needs[0] ? (tA ? op.gemm(b!, dY, null, { transA: tB, transB: true, alpha }) : op.gemm(dY, b!, null, { transB: !tB, alpha })) : undefined;
  const dB = c.needs[1] ? (tB ? op.gemm(dY, a!, null, { transA: true, transB: tA, alpha }) : op.gemm(a!, dY, null, { transA: !tA, alpha })) : undefined;
  let dC: Sym | undefined;
  if (c.needs[2] && bias) {
    dC = unbroadcast(dY, bias.shape);
    if (beta !== 1) dC = op.mul(dC, beta);
  }
  return [dA, dB, dC];
};

/** The matrix products' rules (rules/table.ts assembles every file's rules). */
export const matmulRules: GradRules = {
  MatMul: matmulGrad,
  FusedMatMul: fusedMatmulGrad,
  Gemm: gemmGrad,
};
