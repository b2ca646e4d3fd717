// The two onnxruntime WebGPU faults this project works around, as few-node ONNX graphs ready to report upstream
// (docs/webgpu.md). Writes them to --out DIR (temp/webgpu-repro) and, with --run, runs each on the CPU and WebGPU
// providers in a child process of its own (one of them crashes the process) and prints what each gave.
//   XDG_RUNTIME_DIR=/tmp node --import tsx scripts/webgpu-repro.ts [--out DIR] [--run]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Rng } from '../src/runtime/onnx/random.js';
import { onnx } from '../src/runtime/onnx/proto.js';

const args = process.argv.slice(2);
const outDir = path.resolve(args.includes('--out') ? args[args.indexOf('--out') + 1] : 'temp/webgpu-repro');

const f32 = (name: string, dims: number[]) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
const ints = (name: string, v: number[]) => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
const int = (name: string, v: number) => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: v });
function model(nodes: object[], inputs: object[], outputs: object[], initializer: object[] = []): Uint8Array {
  return onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'instructbooth webgpu-repro', graph: { name: 'repro', node: nodes, input: inputs, output: outputs, initializer } }).finish();
}

/** A Conv whose optional bias is given as an empty name: valid ONNX, a segmentation fault on WebGPU. */
export const emptyBias = () => model(
  [{ opType: 'Conv', input: ['x', 'w', ''], output: ['y'], attribute: [ints('pads', [1, 1, 1, 1])] }],
  [f32('x', [1, 1, 4, 4]), f32('w', [1, 1, 3, 3])], [f32('y', [1, 1, 4, 4])],
);

/** A depthwise Conv (group = channels) with channel multiplier 9, the im2col of a 3x3 kernel: wrong on WebGPU. */
export const depthwiseMultiplier = (mult = 9, c = 4) => {
  const w = new Float32Array(c * mult * 9);
  for (let ch = 0; ch < c; ch++) for (let t = 0; t < mult; t++) w[(ch * mult + t) * 9 + (t % 9)] = 1;
  return model(
    [{ opType: 'Conv', input: ['x', 'w'], output: ['y'], attribute: [ints('pads', [1, 1, 1, 1]), int('group', c)] }],
    [f32('x', [1, c, 4, 4])], [f32('y', [1, c * mult, 4, 4])],
    [{ name: 'w', dataType: onnx.TensorProto.DataType.FLOAT, dims: [c * mult, 1, 3, 3], rawData: new Uint8Array(w.buffer) }],
  );
};

const CASES = { 'conv-empty-bias': emptyBias, 'depthwise-multiplier-9': () => depthwiseMultiplier(9) } as const;

async function runOne(file: string, provider: string): Promise<void> {
  const s = await ort.InferenceSession.create(file, { executionProviders: [provider], logSeverityLevel: 3 });
  const rng = new Rng(1);
  const feeds = Object.fromEntries(s.inputNames.map((n) => {
    const dims = n === 'x' ? (file.includes('empty-bias') ? [1, 1, 4, 4] : [1, 4, 4, 4]) : [1, 1, 3, 3];
    return [n, new ort.Tensor('float32', rng.fillNormal(new Float32Array(dims.reduce((a, b) => a * b, 1))), dims)];
  }));
  const y = (await s.run(feeds)).y.data as Float32Array;
  console.log(JSON.stringify(Array.from(y)));
}

if (args[0] === '--child') await runOne(args[1], args[2]);
else {
  fs.mkdirSync(outDir, { recursive: true });
  for (const [name, make] of Object.entries(CASES)) {
    const file = path.join(outDir, `${name}.onnx`);
    fs.writeFileSync(file, make());
    console.log(`${file}`);
    if (!args.includes('--run')) continue;
    let cpu: number[] | undefined;
    for (const provider of ['cpu', 'webgpu']) {
      const r = spawnSync(process.execPath, [...process.execArgv, import.meta.filename, '--child', file, provider], { encoding: 'utf8' });
      if (r.signal || r.status !== 0) {
        console.log(`  ${provider.padEnd(6)} ${r.signal ? `killed by ${r.signal}` : `exit ${r.status}: ${r.stderr.trim().split('\n').at(-1)}`}`);
        continue;
      }
      const y = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as number[];
      cpu ??= y;
      const wrong = y.filter((v, i) => Math.abs(v - cpu![i]) > 1e-4).length;
      console.log(`  ${provider.padEnd(6)} ran; ${provider === 'cpu' ? `${y.length} outputs` : `${wrong} of ${y.length} outputs differ from the CPU's by more than 1e-4`}`);
    }
  }
}
