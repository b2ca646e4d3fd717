// Runs a node as the executor does: every input the test leaves out gets its schema's default, so a test spells only
// the inputs it is about.
import { type InputSpec, type InputsGiven, type InputsOf, type NodeDefinitionOf, type NodeResult, type RunContext, declaredDefault } from '../../src/runtime/graph/node-api.js';

/** What a test gives node D: the inputs without a default, and any of the others. */
export type GivenTo<D> = D extends NodeDefinitionOf<infer I, infer V> ? InputsGiven<I, V> : never;

/** `given` with the schema's default for each declared input it leaves out (undeclared inputs dropped, as the executor does). */
export function withDefaults<I extends Record<string, InputSpec>, V>(def: NodeDefinitionOf<I, V>, given: NoInfer<InputsGiven<I, V>>): InputsOf<I, V> {
  const inputs: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(def.inputs)) {
    const value = Object.hasOwn(given, name) ? (given as Record<string, unknown>)[name] : declaredDefault(spec);
    if (value !== undefined) inputs[name] = value;
  }
  return inputs as InputsOf<I, V>;
}

export function runNode<I extends Record<string, InputSpec>, V>(def: NodeDefinitionOf<I, V>, given: NoInfer<InputsGiven<I, V>>, ctx: RunContext): Promise<NodeResult> {
  return def.run(withDefaults(def, given), ctx);
}
