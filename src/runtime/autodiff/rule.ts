// What a gradient rule is. A rule sees the forward node with symbols for its inputs and outputs and the gradients
// arriving at its outputs, and returns the gradient for each input it is asked for, in standard ONNX ops. Each file
// under rules/ exports its rules by op type; rules/table.ts assembles them into the one table backward() reads.
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

/** A rules file's export: ONNX op type -> its gradient rule. */
export type GradRules = Readonly<Record<string, GradRule>>;
