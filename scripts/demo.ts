// `npm run demo`: the main job on the embedded default. Runs workflows/instructbooth.json headless (the whole
// InstructBooth pipeline: subject images -> class images -> DreamBooth -> DDPO with the world's reward -> evaluation),
// then puts the results side by side: the evaluation tables of DreamBooth and InstructBooth, the reward curve, and a
// before-and-after grid of the same prompts and seeds, all under output/instructbooth/.
import fs from 'node:fs';
import path from 'node:path';
import { main } from '../src/cli/commands.js';
import { concatImages, imageAt } from '../src/runtime/engine/image.js';
import { decodeImage } from '../src/runtime/engine/image-io.js';
import { labeledGrid } from '../src/runtime/engine/labeled-grid.js';
import { defaultFolders } from '../src/runtime/graph/folders.js';
import { SEEN_ACTIVITIES } from '../src/runtime/world/attributes.js';
import { ACTIVITY_PHRASES } from '../src/runtime/world/wordings.js';
import { WORLD_RECIPE } from '../src/runtime/world/recipe.js';

const t0 = performance.now();
const workflow = path.resolve(import.meta.dirname, '../workflows/instructbooth.json');
// The workflow carries the recipe's 15 RL epochs (what `npm run bench -- instructbooth` measures, ~9 min of DDPO on
// 2 CPU cores); the demo stops at 10 to stay under 10 minutes. Running the workflow itself afterwards continues the
// same checkpoint to 15.
const DEMO_RL_EPOCHS = 10;
const controller = { handler: undefined as undefined | (() => void) };
process.on('SIGINT', () => controller.handler?.());
const code = await main(['run', workflow, '--set', `DDPO (InstructBooth stage 2).epochs=${DEMO_RL_EPOCHS}`], {
  stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), onInterrupt: (h) => (controller.handler = h),
});
if (code !== 0) process.exit(code);

const out = defaultFolders().output;
const dir = path.join(out, 'instructbooth');
/** Newest files "<prefix>_NNNNN_.png" of one run (the highest counter block of `count`). */
const newest = (folder: string, prefix: string, count: number) =>
  fs.readdirSync(folder).filter((f) => f.startsWith(`${prefix}_`) && f.endsWith('.png')).sort().slice(-count).map((f) => path.join(folder, f));
const evalFile = (label: string) => {
  const files = fs.readdirSync(path.join(out, 'evaluations')).filter((f) => f.startsWith(`${label}_`) && f.endsWith('.md')).sort();
  return path.join(out, 'evaluations', files.at(-1)!);
};

// Before and after: per prompt, 4 DreamBooth images then 4 InstructBooth images (same seeds).
const id = WORLD_RECIPE.subject.identifier, cls = WORLD_RECIPE.subject.classNoun;
const prompts = [`a ${id} ${cls}`, ...SEEN_ACTIVITIES.map((a) => `a ${id} ${cls} ${ACTIVITY_PHRASES[a]}`)];
const per = 4;
const before = await Promise.all(newest(dir, 'dreambooth-zwx', prompts.length * per).map((f) => decodeImage(f)));
const after = await Promise.all(newest(dir, 'zwx', prompts.length * per).map((f) => decodeImage(f)));
const rows = prompts.map((p, r) => ({
  label: p,
  images: concatImages([...before.slice(r * per, (r + 1) * per), ...after.slice(r * per, (r + 1) * per)].map((b) => imageAt(b, 0))),
}));
const grid = path.join(dir, 'before-after.png');
fs.writeFileSync(grid, await labeledGrid(rows, { cell: 64, columnTitles: ['DreamBooth', '', '', '', 'InstructBooth', '', '', ''] }));

const table = ['DreamBooth', 'InstructBooth'].map((l) => fs.readFileSync(evalFile(l), 'utf8')).join('\n');
fs.writeFileSync(path.join(dir, 'tables.md'), table);
const curve = newest(dir, 'reward-curve', 1)[0];
console.log(`\n${table}\nreward curve: ${curve}\nbefore and after: ${grid}\ntables: ${path.join(dir, 'tables.md')}`);
console.log(`demo finished in ${((performance.now() - t0) / 60000).toFixed(1)} min`);
