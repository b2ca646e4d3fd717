// Writes each world subject's reference images as PNGs to input/subjects/<subject id>/, where the example workflows'
// LoadSubjectImages finds them (as it would find a user's own photos). The PNGs are committed; rerun after changing
// the world's subjects.
//   node --import tsx scripts/export-world-subjects.ts [--out input/subjects]
import fs from 'node:fs';
import path from 'node:path';
import { imageAt } from '../src/runtime/engine/image.js';
import { encodePng } from '../src/runtime/engine/image-io.js';
import { SUBJECTS, subjectReferences } from '../src/runtime/world/subjects.js';

const i = process.argv.indexOf('--out');
const out = path.resolve(i >= 0 ? process.argv[i + 1] : 'input/subjects');
for (const s of SUBJECTS) {
  const dir = path.join(out, s.id);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const { images } = subjectReferences(s);
  for (let k = 0; k < images.count; k++) fs.writeFileSync(path.join(dir, `${String(k + 1).padStart(2, '0')}.png`), await encodePng(imageAt(images, k)));
  console.log(`${dir}: ${images.count} images of "${s.identifier}" (${s.classNoun})`);
}
