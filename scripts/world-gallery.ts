// Renders the generated world as a PNG grid, one row per theme (classes, plushie bodies, colors, contexts,
// companions and positions, seen and unseen activities, each subject's references, random base samples and the same
// samples degraded), with a markdown file beside it listing every cell's caption and what the oracle reads back.
//
// With --activities it draws one row per activity instead (families in order; several classes, sizes, colors and
// contexts each), to check that every drawing reads at 32 pixels: world-activities.png and .md.
//
//   node --import tsx scripts/world-gallery.ts <output-dir> [--size 32|64] [--zoom 4] [--activities]
import fs from 'node:fs';
import path from 'node:path';
import { imageBatch, type ImageBatch, imageAt } from '../src/runtime/engine/image.js';
import { encodePng } from '../src/runtime/engine/image-io.js';
import { Rng } from '../src/runtime/onnx/random.js';
import {
  ACTIVITY_FAMILIES,
  COLORS,
  COMPANIONS,
  CONTEXTS,
  OBJECT_CLASSES,
  PLUSHIE_BODIES,
  POSITIONS,
  SEEN_ACTIVITIES,
  UNSEEN_ACTIVITIES,
} from '../src/runtime/world/attributes.js';
import { degrade } from '../src/runtime/world/degrade.js';
import { caption } from '../src/runtime/world/grammar.js';
import { describeReading, readScenes } from '../src/runtime/world/oracle/read-scene.js';
import { renderScenes } from '../src/runtime/world/render.js';
import { sampleScene } from '../src/runtime/world/sample.js';
import type { Scene } from '../src/runtime/world/scene.js';
import { SUBJECTS, subjectReferenceScenes } from '../src/runtime/world/subjects.js';

const args = process.argv.slice(2);
const outDir = args.find((a) => !a.startsWith('--'));
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
if (!outDir) {
  console.error('usage: node --import tsx scripts/world-gallery.ts <output-dir> [--size 32|64] [--zoom 4] [--activities]');
  process.exit(2);
}
const size = flag('size', 32);
const zoom = flag('zoom', 4);
const rng = new Rng(20240601);

interface Row {
  title: string;
  scenes: Scene[];
  captions: string[];
  /** Degrade the rendered row (the last row repeats the random samples this way). */
  degraded?: boolean;
}
const base = (pinned: Partial<Scene>) => sampleScene(rng, { activity: 'none', companion: 'none', context: 'plain', position: 'center', ...pinned });
const row = (title: string, scenes: Scene[], captions = scenes.map((s) => caption(s))): Row => ({ title, scenes, captions });

/** One row per activity: the classes in turn, both sizes, every color, plain and other contexts. */
/** The scene in the middle, or where it fits (a large object speeding needs room on its left for the lines). */
function centeredIfItFits(pinned: Partial<Scene>): Scene {
  try {
    return sampleScene(rng, { ...pinned, position: 'center' });
  } catch {
    return sampleScene(rng, pinned);
  }
}

function activityRows(): Row[] {
  const contexts = CONTEXTS.filter((c) => c !== 'plain');
  return Object.values(ACTIVITY_FAMILIES).flatMap((members) =>
    members.map((activity, a) =>
      row(
        activity,
        OBJECT_CLASSES.map((objectClass, i) =>
          centeredIfItFits({
            activity,
            objectClass,
            body: objectClass === 'plushie' ? (['circle', 'square'] as const)[a % 2] : 'circle',
            size: activity === 'twin' || i % 2 === 1 ? 'small' : 'large',
            color: COLORS[(i + a) % COLORS.length],
            context: i < 4 ? 'plain' : contexts[(i + 2 * a) % contexts.length],
            companion: 'none',
          }),
        ),
      ),
    ),
  );
}

const random = Array.from({ length: 10 }, () => sampleScene(rng));
const galleryRows = (): Row[] => [
  row('classes', OBJECT_CLASSES.map((objectClass, i) => base({ objectClass, body: 'circle', color: COLORS[i % 6], size: 'large' }))),
  row('plushie bodies (triangle only for the rare subject)', PLUSHIE_BODIES.flatMap((body, i) => [base({ objectClass: 'plushie', body, color: COLORS[(i + 2) % 7], size: 'large' }), base({ objectClass: 'plushie', body, color: COLORS[(i + 4) % 7], size: 'small' })])),
  row('colors and sizes', COLORS.map((color, i) => base({ objectClass: 'star', color, size: i % 2 ? 'small' : 'large' }))),
  row('contexts', CONTEXTS.map((context) => sampleScene(rng, { context, activity: 'none', companion: 'none', position: 'center', size: 'large' }))),
  row(
    'companions and positions',
    [
      ...COMPANIONS.filter((c) => c !== 'none').map((companion) => sampleScene(rng, { companion, activity: 'none', context: 'plain' })),
      ...POSITIONS.map((position) => sampleScene(rng, { position, activity: 'none', companion: 'none', context: 'plain', size: 'small' })),
    ],
  ),
  row('seen activities (RL trains on these)', SEEN_ACTIVITIES.flatMap((activity) => [base({ activity, size: 'large' }), base({ activity, size: 'small' })])),
  row('unseen activities (evaluation only)', UNSEEN_ACTIVITIES.flatMap((activity) => [base({ activity, size: activity === 'twin' ? 'small' : 'large' }), base({ activity, size: 'small' })])),
  ...SUBJECTS.map((s) => {
    const scenes = subjectReferenceScenes(s);
    return row(`subject ${s.id} ("a ${s.identifier} ${s.rare ? `${s.description} ` : ''}${s.classNoun}") references`, scenes, scenes.map((sc) => caption(sc, { identifier: s.identifier, color: false, size: false })));
  }),
  row('random base-world samples', random),
  { ...row('the same samples degraded (blur 0.7, color shift, block coding, noise)', random), degraded: true },
];
const activities = args.includes('--activities');
const rows = activities ? activityRows() : galleryRows();
const name = activities ? 'world-activities' : 'world-gallery';

const cols = Math.max(...rows.map((r) => r.scenes.length));
const cell = size * zoom, pad = 4;
const W = cols * (cell + pad) + pad, H = rows.length * (cell + pad) + pad;
const grid = imageBatch(1, H, W, 3);
grid.data.fill(1);
const md: string[] = [`# World gallery (${size}x${size}, shown ${zoom}x, nearest neighbour)`, '', 'Cells left to right; each line: caption, then what the oracle reads from the pixels.', ''];
const degradeRng = new Rng(7);
for (const [r, rw] of rows.entries()) {
  let images: ImageBatch = renderScenes(rw.scenes, size);
  if (rw.degraded) images = degrade(images, degradeRng);
  const readings = readScenes(images);
  md.push(`## Row ${r + 1}: ${rw.title}`, '');
  rw.scenes.forEach((_, c) => {
    const img = imageAt(images, c);
    for (let y = 0; y < cell; y++)
      for (let x = 0; x < cell; x++) {
        const src = (Math.floor(y / zoom) * size + Math.floor(x / zoom)) * 3;
        const dst = ((pad + r * (cell + pad) + y) * W + pad + c * (cell + pad) + x) * 3;
        grid.data.set(img.data.subarray(src, src + 3), dst);
      }
    md.push(`${c + 1}. ${rw.captions[c]}  \n   oracle: ${describeReading(readings[c])}`);
  });
  md.push('');
}
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, `${name}.png`), await encodePng(grid));
fs.writeFileSync(path.join(outDir, `${name}.md`), md.join('\n'));
console.log(`wrote ${path.join(outDir, `${name}.png`)} (${W}x${H}) and ${name}.md`);
