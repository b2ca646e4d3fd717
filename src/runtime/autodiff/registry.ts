// One gradient rule per ONNX op type. A rule sees the forward node with symbols for its inputs and outputs and the
// gradients arriving at its outputs, and returns the gradient for each input it is asked for, in standard ONNX ops.
import type { GraphBuilder, Sym } from '../onnx/builder.js';
import type { IRNode } from '../onnx/ir.js';

export interface GradContext {
  b: GraphBuilder;
  node: IRNode;
  /** Forward inputs (undefined where an optional input is omitted). */
  x: (Sym | undefined)[];
  /** Forward outputs (undefined where an optional output is omitted). */
  y: (Sym | undefined)[];
  /** Gradients of the loss with respect to each output; undefined means zero. */
  dy: (Sym | undefined)[];
  /** Which inputs need a gradient. */
  needs: boolean[];
  /** Values of constant inputs (axes, shapes, pads), read at build time. */
  constInts(i: number): number[] | undefined;
}

/** Returns one gradient per input; undefined where not needed or identically zero. */
export type GradRule = (c: GradContext) => (Sym | undefined)[];

const rules = new Map<string, GradRule>();

export function defineGrad(op: string | string[], rule: GradRule): void {
  for (const o of Array.isArray(op) ? op : [op]) {
    if (rules.has(o)) throw new Error(`gradient rule for ${o} defined twice`);
    rules.set(o, rule);
  }
}

export function gradRule(op: string): GradRule | undefined {
  return rules.get(op);
}

/**
 * Ops whose outputs carry no gradient: shape arithmetic, comparisons, integer results, random numbers.
 * Values they produce are treated as constants.
 */
export const NON_DIFFERENTIABLE = new Set([
  'Shape', 'Size', 'ConstantOfShape', 'Constant', 'Range', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual',
  'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf', 'ArgMax', 'ArgMin', 'Floor', 'Ceil', 'Round', 'Sign', 'RandomNormal',
  'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'NonZero', 'Trilu',
]);

export function hasGradRule(op: string): boolean {
  return rules.has(op) || NON_DIFFERENTIABLE.has(op);
}
