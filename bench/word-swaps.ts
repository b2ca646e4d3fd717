// `npm run bench -- word-swaps`: how strongly the text encoder carries each kind of word to the UNet. For captions
// "a <color> <class><tail>" (7 classes x 6 colors x 4 tails), the relative L2 change of the encoder's output (all 77
// positions) when one word is swapped: the class, the color, or (on "a red star <activity>") the activity. A contrastive
// encoder trained on batches that color and context decide carries the class weakly (docs/world-v2.md).
// The accessory's color: "a <color> star wearing a <color> scarf" (or holding a balloon), the accessory's swapped.
// Last line: JSON {"class_swap", "color_swap", "activity_swap", "accessory_color_swap", "class_over_color"}.
//   npm run bench -- word-swaps [--model DIR]
import path from 'node:path';
import { loadSdModel } from '../src/runtime/models/sd-model.js';
import { SdPipeline } from '../src/runtime/models/sd-pipeline.js';

const args = process.argv.slice(3);
const at = args.indexOf('--model');
const modelDir = path.resolve(at >= 0 ? args[at + 1] : 'models/embedded');
const CLASSES = ['star', 'square', 'ring', 'heart', 'circle', 'triangle', 'cross'];
const COLORS = ['red', 'blue', 'green', 'yellow', 'purple', 'orange'];
const TAILS = ['', ' on the grass', ' wearing a hat', ' in the snow on the left'];
const ACTIVITIES = ['wearing a hat', 'riding a skateboard', 'in a cage', 'bouncing', 'holding a flag'];

const pipe = new SdPipeline(loadSdModel(modelDir));
/** Hidden states of each prompt, and ||h_i - h_j|| / ||h_i|| between two of them. */
async function encoded(prompts: string[]) {
  const h = await pipe.encodeText(prompts);
  const size = h.shape.slice(1).reduce((a, b) => a * b, 1);
  const d = h.data as Float32Array;
  return (i: number, j: number) => {
    let diff = 0, norm = 0;
    for (let x = 0; x < size; x++) {
      diff += (d[i * size + x] - d[j * size + x]) ** 2;
      norm += d[i * size + x] ** 2;
    }
    return Math.sqrt(diff / norm);
  };
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const classSwaps: number[] = [], colorSwaps: number[] = [];
for (const tail of TAILS) {
  const change = await encoded(CLASSES.flatMap((c) => COLORS.map((k) => `a ${k} ${c}${tail}`)));
  const at = (ci: number, ki: number) => ci * COLORS.length + ki;
  for (let ci = 0; ci < CLASSES.length; ci++)
    for (let ki = 0; ki < COLORS.length; ki++) {
      for (let cj = ci + 1; cj < CLASSES.length; cj++) classSwaps.push(change(at(ci, ki), at(cj, ki)));
      for (let kj = ki + 1; kj < COLORS.length; kj++) colorSwaps.push(change(at(ci, ki), at(ci, kj)));
    }
}
const activityChange = await encoded(ACTIVITIES.map((a) => `a red star ${a}`));
const activitySwaps: number[] = [];
for (let i = 0; i < ACTIVITIES.length; i++) for (let j = i + 1; j < ACTIVITIES.length; j++) activitySwaps.push(activityChange(i, j));
// The accessory's color ("a red star wearing a blue scarf" -> "... a green scarf"): the claim the model learns last.
const accessorySwaps: number[] = [];
for (const item of ['wearing a # scarf', 'holding a # balloon']) {
  const change = await encoded(COLORS.flatMap((k) => COLORS.map((a) => `a ${k} star ${item.replace('#', a)}`)));
  for (let ki = 0; ki < COLORS.length; ki++)
    for (let ai = 0; ai < COLORS.length; ai++)
      for (let aj = ai + 1; aj < COLORS.length; aj++) accessorySwaps.push(change(ki * COLORS.length + ai, ki * COLORS.length + aj));
}
await pipe.release();

const r3 = (x: number) => Number(x.toFixed(3));
const result = {
  class_swap: r3(mean(classSwaps)), color_swap: r3(mean(colorSwaps)), activity_swap: r3(mean(activitySwaps)),
  accessory_color_swap: r3(mean(accessorySwaps)), class_over_color: r3(mean(classSwaps) / mean(colorSwaps)),
};
console.log(`model ${modelDir}: relative change of the text encoder's output when one word is swapped`);
console.log(`| class | color | activity | accessory's color | class / color |\n|---|---|---|---|---|\n| ${result.class_swap} | ${result.color_swap} | ${result.activity_swap} | ${result.accessory_color_swap} | ${result.class_over_color} |`);
console.log(JSON.stringify(result));
