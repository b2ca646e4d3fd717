// Autodiff on a graph the project did not build: torch's own ONNX export of the mini UNet. Shapes are discovered by
// one run; the gradients of its initializers must match torch's parameter gradients.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { makeTrainingGraph } from '../../src/runtime/autodiff/training-graph.js';
import { Trainer } from '../../src/runtime/autodiff/trainer.js';
import { discoverShapes } from '../../src/runtime/engine/discover-shapes.js';
import { SGD } from '../../src/runtime/engine/optim/sgd.js';
import type { HostTensor } from '../../src/runtime/onnx/tensor.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import { loadModel } from '../../src/runtime/onnx/model-file.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { readTensors } from '../fixture-utils.js';

const dir = path.join(import.meta.dirname, '../fixtures/mini-unet');
const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
const readAll = (file: string) => readTensors(path.join(dir, file));

function transpose2d(t: HostTensor): Float32Array {
  const [r, c] = t.shape;
  const src = t.data as Float32Array;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = src[i * c + j];
  return out;
}

test('gradients of an imported torch ONNX export match torch', async () => {
  const inputs = readAll('inputs.safetensors');
  const grads = readAll('grads.safetensors');
  const graph = loadModel(path.join(dir, 'mini-unet.onnx'));
  const feeds = Object.fromEntries(['sample', 'timestep', 'encoder_hidden_states'].map((k) => [k, inputs.get(k)!]));
  await discoverShapes(graph, feeds);

  const b = new GraphBuilder(graph);
  const noise = b.input('noise', inputs.get('noise')!.shape);
  const d = op.sub(b.sym(graph.outputs[0]), noise);
  const loss = b.output(op.mean(op.mul(d, d)), 'loss');
  graph.outputs = [loss.name];
  const mapping: Record<string, { param: string; transform: string }> = meta.onnx_initializers;
  const tg = makeTrainingGraph(graph, loss.name, { trainable: (n) => n in mapping });
  assert.equal(tg.params.length, Object.keys(mapping).length);

  const trainer = await Trainer.create(tg, new SGD({ lr: 0 }), { session: { threads: 2 } });
  const r = await trainer.gradients({ ...feeds, noise: inputs.get('noise')! });
  assert.ok(Math.abs(r.loss - meta.loss) / meta.loss < 1e-5, `loss ${r.loss} vs ${meta.loss}`);
  for (const [name, g] of r.grads) {
    const { param, transform } = mapping[name];
    const ref = grads.get(param)!;
    const want = transform === 'transpose' ? transpose2d(ref) : (ref.data as Float32Array);
    let num = 0, den = 0;
    for (let i = 0; i < want.length; i++) {
      num = Math.max(num, Math.abs(g[i] - want[i]));
      den = Math.max(den, Math.abs(want[i]));
    }
    assert.ok(num / den <= 1e-4, `${name} (${param}): relative error ${(num / den).toExponential(2)}`);
  }
  await trainer.release();
});
