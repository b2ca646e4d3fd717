// Renders a gallery of the embedded base model: prompts (rows) against samples (columns), at the default sampler
// settings, to a PNG the README shows.
//   node --import tsx scripts/model-gallery.ts [--model models/embedded] [--out docs/images/base-gallery.png] [--per 6]
import fs from 'node:fs';
import path from 'node:path';
import { labeledGrid } from '../src/runtime/engine/labeled-grid.js';
import { DEFAULT_SAMPLING } from '../src/runtime/diffusion/sampler.js';
import { loadSdModel } from '../src/runtime/models/sd-model.js';
import { SdPipeline } from '../src/runtime/models/sd-pipeline.js';

const args = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const out = path.resolve(flag('out', 'docs/images/base-gallery.png'));
const per = Number(flag('per', '6'));
const PROMPTS = [
  'a red circle',
  'a blue square on the beach',
  'a green star wearing a hat',
  'a yellow heart holding a blue balloon',
  'a purple triangle riding a cart in the snow',
  'a white cross in a bubble',
  'a orange ring with its shadow on the grass',
  'a blue plushie with a crown on',
  'a red star wearing a yellow scarf next to a ball',
  'a green square speeding under a sun',
];
const pipe = new SdPipeline(loadSdModel(path.resolve(flag('model', 'models/embedded'))));
const rows = [];
for (const [r, prompt] of PROMPTS.entries()) {
  const { images } = await pipe.sample({ prompts: Array(per).fill(prompt), seeds: Array.from({ length: per }, (_, i) => 100 * r + i), ...DEFAULT_SAMPLING });
  rows.push({ label: prompt, images });
}
await pipe.release();
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, await labeledGrid(rows, { cell: 64 }));
console.log(`wrote ${out}`);
