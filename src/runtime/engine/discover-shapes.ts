// Imported ONNX graphs often lack static shapes for intermediates (onnxruntime-node offers no shape inference).
// One run that exposes every intermediate as an output reveals them all for concrete inputs.
import type { Graph } from '../onnx/ir.js';
import { Session } from './session.js';
import type { HostTensor } from '../onnx/tensor.js';

export async function discoverShapes(graph: Graph, feeds: Record<string, HostTensor>): Promise<void> {
  const known = new Set(graph.outputs);
  const extra: string[] = [];
  for (const n of graph.nodes) for (const o of n.outputs) if (o && !known.has(o) && !graph.initializers.has(o)) extra.push(o);
  const session = await Session.fromGraph(graph, { optimization: 'disabled', threads: 1 }, extra);
  try {
    const out = await session.run(feeds);
    for (const [name, t] of Object.entries(out)) graph.values.set(name, { dtype: t.dtype, shape: t.shape });
    // Integer shape arithmetic (Shape -> Gather -> Concat -> Reshape...) becomes build-time constants that gradient
    // rules can read: a value is constant when its node reads only constants, or only the shape of its input.
    for (const n of graph.nodes) {
      const fromConstants = n.op === 'Shape' || n.op === 'Size' || n.inputs.every((i) => !i || graph.constants.has(i));
      if (!fromConstants) continue;
      for (const o of n.outputs) if (out[o] && (out[o].dtype === 'int64' || out[o].dtype === 'int32')) graph.constants.set(o, out[o]);
    }
  } finally {
    await session.release();
  }
}
