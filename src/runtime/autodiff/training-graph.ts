// Turns a forward graph with a scalar loss into a training graph: the chosen parameters become graph inputs (so one
// session serves every step with fresh weights) and the graph outputs the loss and one gradient per parameter.
import type { HostTensor } from '../onnx/tensor.js';
import type { Graph } from '../onnx/ir.js';
import { backward } from './backward.js';
import { type CheckpointPlan, planCheckpoints, recomputeSegments } from './checkpointing.js';

export interface TrainingGraph {
  graph: Graph;
  loss: string;
  /** Parameter names in a fixed order, their gradient output names, and their starting values. */
  params: string[];
  gradOf: Map<string, string>;
  initial: Map<string, HostTensor>;
  /** Name of the scalar dL/dL input (feed 1, or the loss scale). */
  seed: string;
  /** Extra forward outputs kept (e.g. predictions for logging). */
  extraOutputs: string[];
  /** With gradient checkpointing: the segments and the nodes it added (recomputed copies and their gates). */
  checkpointing?: { plan: CheckpointPlan; addedNodes: number };
}

export interface TrainingGraphOptions {
  /**
   * Which float32 initializers train. Default: those the builder made with `param` (not build-time constants). For
   * imported ONNX files, where every initializer is readable as a constant, name them.
   */
  trainable?: (name: string) => boolean;
  extraOutputs?: string[];
  /**
   * Recompute segments of the forward pass in the backward pass instead of keeping their activations (less memory,
   * about one more forward pass of compute; the same gradients; docs/checkpointing.md). `{ segments }`: about how many.
   */
  gradientCheckpointing?: boolean | { segments?: number };
}

export function makeTrainingGraph(graph: Graph, loss: string, o: TrainingGraphOptions = {}): TrainingGraph {
  const isParam = (name: string, t: HostTensor) => t.dtype === 'float32' && (o.trainable ? o.trainable(name) : !graph.constants.has(name));
  const initial = new Map<string, HostTensor>();
  for (const [name, t] of graph.initializers) if (isParam(name, t)) initial.set(name, t);
  const params = [...initial.keys()];
  if (params.length === 0) throw new Error('no trainable parameters in the graph');
  for (const p of params) {
    graph.initializers.delete(p);
    graph.constants.delete(p); // it changes every step now
    graph.inputs.push(p);
  }
  const extra = o.extraOutputs ?? [];
  const forwardCount = graph.nodes.length;
  const { grads, seed } = backward(graph, loss, params);
  graph.outputs = [loss, ...extra, ...params.map((p) => grads.get(p)!)];
  const gc = o.gradientCheckpointing;
  let checkpointing: TrainingGraph['checkpointing'];
  if (gc) {
    const free = new Set(params);
    const plan = planCheckpoints(graph, forwardCount, { free: (v) => free.has(v), segments: typeof gc === 'object' ? gc.segments : undefined });
    checkpointing = { plan, addedNodes: recomputeSegments(graph, forwardCount, plan, seed) };
  }
  return { graph, loss, params, gradOf: grads, initial, seed, extraOutputs: extra, checkpointing };
}
