// The gradient table: every op type's rule, assembled from the rules files' exports, and the fused rules that take a
// small subgraph as a whole (fused.ts). backward() reads these and nothing else; a new rule goes in a rules file's
// export, and a new rules file in the lists below.
import type { IRNode } from '../../onnx/ir.js';
import type { FusedMatch, FusedMatcher, FusedRules, GraphIndex } from '../fused.js';
import type { GradRule, GradRules } from '../rule.js';
import { convRules } from './conv.js';
import { elementwiseRules } from './elementwise.js';
import { fusedAttentionRules } from './fused-attention.js';
import { fusedGroupNormRules } from './fused-group-norm.js';
import { fusedSiluRules } from './fused-silu.js';
import { matmulRules } from './matmul.js';
import { normRules } from './norm.js';
import { reduceRules } from './reduce.js';
import { resizeRules } from './resize.js';
import { shapeRules } from './shape.js';

function gradTable(parts: GradRules[]): ReadonlyMap<string, GradRule> {
  const table = new Map<string, GradRule>();
  for (const part of parts)
    for (const [op, rule] of Object.entries(part)) {
      if (table.has(op)) throw new Error(`gradient rule for ${op} defined twice`);
      table.set(op, rule);
    }
  return table;
}

function fusedTable(parts: FusedRules[]): ReadonlyMap<string, readonly FusedMatcher[]> {
  const table = new Map<string, FusedMatcher[]>();
  for (const part of parts) for (const [op, m] of Object.entries(part)) table.set(op, [...(table.get(op) ?? []), m]);
  return table;
}

/** ONNX op type -> its gradient rule. */
export const GRAD_RULES = gradTable([
  convRules, elementwiseRules, matmulRules, normRules, reduceRules, resizeRules, shapeRules,
]);

/** Op type of the node where a fused subgraph ends -> its matchers, tried in order. */
export const FUSED_GRAD_RULES = fusedTable([fusedAttentionRules, fusedGroupNormRules, fusedSiluRules]);

/**
 * Ops whose outputs carry no gradient: shape arithmetic, comparisons, integer results, random numbers.
 * Values they produce are treated as constants.
 */
export const NON_DIFFERENTIABLE: ReadonlySet<string> = new Set([
  'Shape', 'Size', 'ConstantOfShape', 'Constant', 'Range', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual',
  'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf', 'ArgMax', 'ArgMin', 'Floor', 'Ceil', 'Round', 'Sign', 'RandomNormal',
  'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'NonZero', 'Trilu',
]);

export function hasGradRule(op: string): boolean {
  return GRAD_RULES.has(op) || NON_DIFFERENTIABLE.has(op);
}

/** The first fused rule whose pattern ends at `node`, if any. */
export function matchFused(node: IRNode, g: GraphIndex): FusedMatch | undefined {
  if (node.domain !== '') return undefined;
  for (const m of FUSED_GRAD_RULES.get(node.op) ?? []) {
    const r = m(node, g);
    if (r) return r;
  }
  return undefined;
}
