// Every op's shape-inference rule in one table, put together from each op file's exported rules, so that what the
// builder can infer is read here rather than assembled by imports run for their side effects.
import { mathRules } from './math.js';
import { nnRules } from './nn.js';
import type { InferFn } from './registry.js';
import { shapeRules } from './shape.js';

function merge(...sets: { rules: ReadonlyMap<string, InferFn> }[]): ReadonlyMap<string, InferFn> {
  const table = new Map<string, InferFn>();
  for (const set of sets)
    for (const [op, infer] of set.rules) {
      if (table.has(op)) throw new Error(`shape rule for ${op} defined in two op files`);
      table.set(op, infer);
    }
  return table;
}

export const SHAPE_RULES = merge(mathRules, nnRules, shapeRules);

export function inferRule(op: string): InferFn | undefined {
  return SHAPE_RULES.get(op);
}
