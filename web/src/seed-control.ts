// What a seed's "control after generate" widget does once a run is queued (ComfyUI's fixed/increment/decrement/randomize).
import type { ControlMode } from '../../src/runtime/graph/input-schema.js';

/** The next seed after a queued run, per its control widget. */
export function nextSeed(mode: ControlMode | string, value: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const hi = Math.min(max, Number.MAX_SAFE_INTEGER);
  switch (mode) {
    case 'increment':
      return Math.min(hi, value + 1);
    case 'decrement':
      return Math.max(min, value - 1);
    case 'randomize':
      return min + Math.floor(Math.random() * (Math.min(hi, 2 ** 50) - min + 1));
    default:
      return value;
  }
}
