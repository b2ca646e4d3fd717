// The world generator: seeded and deterministic down to the bytes, different seeds give different images, any
// resolution works, every sampled scene fits its frame, and the base distribution holds no subject appearances.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Rng } from '../../src/runtime/onnx/random.js';
import { ACTIVITIES, CONTEXT_EXCLUDED_COLORS, CONTEXTS, OBJECT_CLASSES } from '../../src/runtime/world/attributes.js';
import { layoutScene } from '../../src/runtime/world/layout.js';
import { baseTrainingExamples } from '../../src/runtime/world/prompts.js';
import { renderScenes } from '../../src/runtime/world/render.js';
import { sampleScene } from '../../src/runtime/world/sample.js';
import { scene } from '../../src/runtime/world/scene.js';

const digest = (data: Float32Array) => createHash('sha256').update(Buffer.from(data.buffer, data.byteOffset, data.byteLength)).digest('hex');

test('same seed, identical scenes, captions and bytes; another seed, other images', () => {
  const a = baseTrainingExamples(40, 123), b = baseTrainingExamples(40, 123), c = baseTrainingExamples(40, 124);
  assert.deepEqual(a.scenes, b.scenes);
  assert.deepEqual(a.captions, b.captions);
  assert.equal(digest(a.images.data), digest(b.images.data));
  assert.notEqual(digest(a.images.data), digest(c.images.data));
  // Images within one set differ from each other too.
  const per = 32 * 32 * 3;
  const hashes = new Set(Array.from({ length: 40 }, (_, i) => digest(a.images.data.subarray(i * per, (i + 1) * per))));
  assert.equal(hashes.size, 40);
});

test('renders are RGB in [0, 1] at 32 and at 64 pixels, and the two agree when downsampled', () => {
  const s = sampleScene(new Rng(9), { objectClass: 'star', activity: 'hat', context: 'grass', companion: 'sun' });
  const small = renderScenes([s], 32), big = renderScenes([s], 64);
  assert.deepEqual([small.count, small.height, small.width, small.channels], [1, 32, 32, 3]);
  assert.deepEqual([big.height, big.width], [64, 64]);
  for (const img of [small, big]) assert.ok(img.data.every((v) => v >= 0 && v <= 1));
  let diff = 0;
  for (let y = 0; y < 32; y++)
    for (let x = 0; x < 32; x++)
      for (let c = 0; c < 3; c++) {
        const at = (yy: number, xx: number) => big.data[(yy * 64 + xx) * 3 + c];
        const down = (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4;
        diff += Math.abs(down - small.data[(y * 32 + x) * 3 + c]);
      }
  assert.ok(diff / (32 * 32 * 3) < 0.02, `mean difference ${diff / 3072}`);
});

test('sampled scenes fit, cover every class, context and activity, and never pair a color with a context hiding it', () => {
  const rng = new Rng(77);
  const seen = { cls: new Set<string>(), ctx: new Set<string>(), act: new Set<string>() };
  for (let i = 0; i < 600; i++) {
    const s = sampleScene(rng);
    assert.ok(layoutScene(s).fits, JSON.stringify(s));
    assert.ok(!CONTEXT_EXCLUDED_COLORS[s.context].includes(s.color));
    assert.deepEqual(s.markings, [], 'base scenes carry no subject markings');
    assert.notEqual(s.objectClass === 'plushie' && s.body, 'triangle', 'the triangle plushie is the rare subject only');
    if (s.activity === 'twin') assert.equal(s.size, 'small');
    seen.cls.add(s.objectClass);
    seen.ctx.add(s.context);
    seen.act.add(s.activity);
  }
  assert.equal(seen.cls.size, OBJECT_CLASSES.length);
  assert.equal(seen.ctx.size, CONTEXTS.length);
  assert.equal(seen.act.size, ACTIVITIES.length);
});

test('pinned attributes are kept; impossible pins are refused with the reason', () => {
  const s = sampleScene(new Rng(1), { objectClass: 'cross', color: 'purple', activity: 'spinning', context: 'beach' });
  assert.deepEqual([s.objectClass, s.color, s.activity, s.context], ['cross', 'purple', 'spinning', 'beach']);
  assert.throws(() => sampleScene(new Rng(1), { activity: 'twin', size: 'large' }, { maxTries: 20 }), /no scene fits/);
  assert.equal(layoutScene(scene({ activity: 'twin', size: 'large' })).problem, 'the object leaves the frame');
});
