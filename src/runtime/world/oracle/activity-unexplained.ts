// What a hypothesis leaves unexplained: item color just around the body that lies more than a pixel from any part the
// hypothesis draws. A shadow's crescent lies where a cage's corner bars are, and speed lines where a spinning object's
// left arc is; what tells them apart is the rest of the cage, the other arc.
import { BG } from './labels.js';
import { PixelSet } from './synthesis.js';

/** Item color must be at least this strong to count (a blur's tail is weaker). */
const STRONG = 0.5;
/** How far around the body's box (pixels) unexplained item color counts. */
const REACH = 3;
/** A tiny item's unexplained color is taken against at least this many pixels. */
const MIN_ITEM_PIXELS = 4;

export class UnexplainedItems {
  private readonly window: PixelSet;

  /** `itemColor`: every item color's share, per pixel; `labels`: pass-2 labels (a pixel that is mostly background,
   * noise on a striped one, is no item); `body`: the found body's pixels. */
  constructor(
    private readonly itemColor: Float32Array,
    private readonly labels: Uint8Array,
    body: PixelSet,
  ) {
    const size = body.size;
    this.window = new PixelSet(size);
    if (!body.empty) {
      this.window.add(Math.max(0, body.y0 - REACH) * size + Math.max(0, body.x0 - REACH));
      this.window.add(Math.min(size - 1, body.y1 + REACH) * size + Math.min(size - 1, body.x1 + REACH));
    }
  }

  /** Unexplained item color per pixel of the hypothesis's items (`sets`, `count` pixels in all). */
  share(sets: Iterable<PixelSet>, count: number, skip: (p: number) => boolean): number {
    if (this.window.empty) return 0;
    const predicted = new PixelSet(this.window.size);
    for (const set of sets) set.window(0, (p) => set.has[p] && predicted.add(p));
    const near = predicted.distances();
    let sum = 0;
    this.window.window(0, (p) => {
      if (near[p] > 1 && this.itemColor[p] >= STRONG && this.labels[p] !== BG && !skip(p)) sum += this.itemColor[p];
    });
    return sum / Math.max(count, MIN_ITEM_PIXELS);
  }
}
