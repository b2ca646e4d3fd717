// Compares oracle readings with the scenes that were rendered: per attribute and whole-scene agreement, and the
// disagreements themselves (for a readable failure message).
import type { Scene } from '../../src/runtime/world/scene.js';
import { caption } from '../../src/runtime/world/grammar.js';
import { type SceneReading, describeReading } from '../../src/runtime/world/oracle/read-scene.js';

export const ATTRIBUTES = ['objectClass', 'body', 'color', 'size', 'position', 'context', 'companion', 'activity', 'accessoryColor'] as const;
type Attribute = (typeof ATTRIBUTES)[number];

export function disagreements(s: Scene, r: SceneReading): Attribute[] {
  const wrong: Attribute[] = [];
  for (const a of ATTRIBUTES) {
    if (a === 'body') {
      if (s.objectClass === 'plushie' && r.body !== s.body) wrong.push(a);
    } else if (a === 'accessoryColor') {
      if ((r.accessoryColor ?? null) !== s.accessoryColor) wrong.push(a);
    } else if (r[a] !== s[a]) wrong.push(a);
  }
  return wrong;
}

export interface Agreement {
  total: number;
  /** Fraction of images with every attribute right. */
  scene: number;
  perAttribute: Record<Attribute, number>;
  failures: string[];
}

export function agreement(scenes: readonly Scene[], readings: readonly SceneReading[]): Agreement {
  const wrongBy = Object.fromEntries(ATTRIBUTES.map((a) => [a, 0])) as Record<Attribute, number>;
  let ok = 0;
  const failures: string[] = [];
  scenes.forEach((s, i) => {
    const w = disagreements(s, readings[i]);
    if (w.length === 0) ok++;
    else failures.push(`#${i} [${w.join(',')}] truth "${caption(s)}"${s.objectClass === 'plushie' ? ` (body ${s.body})` : ''} / read "${describeReading(readings[i])}"${readings[i].body ? ` (body ${readings[i].body})` : ''}`);
    for (const a of w) wrongBy[a]++;
  });
  const n = scenes.length;
  return {
    total: n,
    scene: ok / n,
    perAttribute: Object.fromEntries(ATTRIBUTES.map((a) => [a, 1 - wrongBy[a] / n])) as Record<Attribute, number>,
    failures,
  };
}
