// A scene: the ground truth behind one image. The renderer draws exactly this; the oracle reads these fields back.
import type { Activity, ColorName, Companion, Context, Marking, ObjectClass, PlushieBody, Position, Size } from './attributes.js';

/** Small per-image variations that no caption mentions, so no two renders of a caption are the same picture. */
export interface SceneJitter {
  /** Offset of the object's center, in image widths. */
  dx: number;
  dy: number;
  /** Rotation in degrees. */
  rotation: number;
  /** Multiplies the size's radius. */
  scale: number;
  /** Added to each channel of the object color. */
  tint: readonly [number, number, number];
  /** Added to each channel of the background colors. */
  backgroundTint: readonly [number, number, number];
  /** Seeds decorations (snowflakes, grass blades). */
  detailSeed: number;
}

export interface Scene {
  objectClass: ObjectClass;
  /** The plushie's body outline; 'circle' for every other class (unused). */
  body: PlushieBody;
  color: ColorName;
  size: Size;
  position: Position;
  context: Context;
  companion: Companion;
  /** Which side a companion stands on (chosen away from the object). */
  companionSide: 'left' | 'right';
  activity: Activity;
  /** The scarf's or balloon's color (never the object's own); null for every other activity. */
  accessoryColor: ColorName | null;
  /** Subject-only; [] for every base-world scene. */
  markings: readonly Marking[];
  jitter: SceneJitter;
}

export const NO_JITTER: SceneJitter = { dx: 0, dy: 0, rotation: 0, scale: 1, tint: [0, 0, 0], backgroundTint: [0, 0, 0], detailSeed: 1 };

/** A scene with defaults for everything not given: a plain, centered, large red circle. */
export function scene(parts: Partial<Scene>): Scene {
  return {
    objectClass: 'circle',
    body: 'circle',
    color: 'red',
    size: 'large',
    position: 'center',
    context: 'plain',
    companion: 'none',
    companionSide: 'right',
    activity: 'none',
    accessoryColor: null,
    markings: [],
    jitter: NO_JITTER,
    ...parts,
  };
}
