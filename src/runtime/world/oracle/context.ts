// Reads the background from the image's top and bottom strips, which the layout keeps mostly clear: their median
// colors tell plain backgrounds and grounds apart, a horizontal-vs-vertical texture tells stripes, and bright specks
// above the strip median tell dots. It also measures the global color shift (observed minus designed background
// colors), which the pixel labeler then applies to every designed color.
import { CONTEXTS, type Context } from '../attributes.js';
import { DOT_RADIUS, DOT_SPACING, GROUND_Y } from '../contexts.js';
import { CONTEXT_RGB, type RGB, dist2 } from '../palette.js';
import { type Pixels, luma, median, resample } from './pixels.js';

export interface ContextReading {
  context: Context;
  /** The background's colors as seen (measured where visible, otherwise designed + shift). */
  colors: RGB[];
  /** Observed minus designed, per channel. */
  shift: RGB;
  stripeScore: number;
  dotScore: number;
}

const W = 32;
const STRIP = 3;

/** Pixels of the top rows plus the upper side columns (sky, for the grounded contexts), and of the bottom rows plus
 * the lower side columns: more than a strip, so that an object or a cage crossing one strip does not take it over. */
function regions(): { top: number[]; bottom: number[] } {
  const top: number[] = [], bottom: number[] = [];
  for (let y = 0; y < W; y++)
    for (let x = 0; x < W; x++) {
      const side = x < STRIP || x >= W - STRIP;
      if (y < STRIP || (side && y < 14)) top.push(y * W + x);
      if (y >= W - STRIP || (side && y >= 25)) bottom.push(y * W + x);
    }
  return { top, bottom };
}
const REGIONS = regions();

function regionStats(img: Pixels, pixels: number[], rows: number[]) {
  const d = img.data;
  const ch: number[][] = [[], [], []];
  const lum: number[] = [];
  for (const p of pixels) {
    for (let c = 0; c < 3; c++) ch[c].push(d[p * 3 + c]);
    lum.push(luma(d, p));
  }
  // Texture along and across the strip rows: stripes change along a row and not down a column.
  let dh = 0, nh = 0, dv = 0, nv = 0;
  for (let i = 0; i < rows.length; i++)
    for (let x = 0; x < W; x++) {
      const p = rows[i] * W + x;
      if (x + 1 < W) {
        dh += Math.abs(luma(d, p + 1) - luma(d, p));
        nh++;
      }
      if (i + 1 < rows.length && rows[i + 1] === rows[i] + 1) {
        dv += Math.abs(luma(d, p + W) - luma(d, p));
        nv++;
      }
    }
  const med = median(lum);
  // Dots: bright specks along the strip rows (the side columns would dilute them).
  let bright = 0;
  for (const y of rows) for (let x = 0; x < W; x++) if (luma(d, y * W + x) > med + 0.1) bright++;
  bright /= rows.length * W;
  // Two-tone strips (stripes): the median color of the darker and of the lighter pixels, each robust to a few pixels
  // of something else (a sun in the corner), where one median of an even split is not. Only stripes need them. The
  // two are split halfway between the 10th and 90th percentile lumas, not at the median: where an object covers a
  // few dark-stripe pixels, the light stripe's pixels are more than half and a median split would leave the lighter
  // side only the object's (a yellow object's bright pixels read as a light stripe shifted toward yellow).
  const sorted = Float64Array.from(lum).sort();
  const split = (sorted[Math.floor(0.1 * (sorted.length - 1))] + sorted[Math.ceil(0.9 * (sorted.length - 1))]) / 2;
  const half = (dark: boolean) => ch.map((v) => median(v.filter((_, i) => (lum[i] <= split) === dark))) as unknown as RGB;
  const stripe = dh / nh - dv / nv;
  const halves = stripe > 0.04 ? { dark: half(true), light: half(false) } : { dark: [0, 0, 0] as RGB, light: [0, 0, 0] as RGB };
  return { color: ch.map(median) as unknown as RGB, ...halves, stripe, bright, ch };
}

export function readContext(image: Pixels): ContextReading {
  const img = resample(image, W);
  const top = regionStats(img, REGIONS.top, [0, 1, 2, 3]);
  const bottom = regionStats(img, REGIONS.bottom, [W - 4, W - 3, W - 2, W - 1]);
  // Either strip may be crossed by the object or a cage: stripes in one strip whose dark and light halves are as far
  // apart as the designed stripes are enough.
  const stripeScore = Math.max(top.stripe, bottom.stripe);
  const dotScore = dotContrast(img);
  const stripes = top.stripe >= bottom.stripe ? top : bottom;
  const [sd, sl] = [CONTEXT_RGB.striped[0], CONTEXT_RGB.striped[1]];
  const contrastSeen = luma3(stripes.light) - luma3(stripes.dark), contrastDesigned = luma3(sl) - luma3(sd);
  let context: Context;
  if (stripeScore > 0.04 && contrastSeen > 0.3 * contrastDesigned) context = 'striped';
  else {
    // Nearest designed (top, bottom) pair; dotted and plain share theirs and are told apart by specks.
    let best = Infinity;
    context = 'plain';
    for (const c of CONTEXTS) {
      if (c === 'striped' || c === 'dotted') continue;
      const rgb = CONTEXT_RGB[c];
      const [t, b] = rgb.length === 1 ? [rgb[0], rgb[0]] : [rgb[0], rgb[rgb.length - 1]];
      const d = dist2(top.color, t) + dist2(bottom.color, b);
      if (d < best) {
        best = d;
        context = c;
      }
    }
    if (context === 'plain' && dotScore > 0.08) context = 'dotted';
  }
  const designed = CONTEXT_RGB[context];
  // Which designed colors the strips measured: the top strip shows the first, the bottom strip the last.
  const measured: [RGB, RGB][] =
    context === 'striped' || context === 'dotted'
      ? []
      : designed.length === 1
        ? [[designed[0], [0, 1, 2].map((c) => median([...top.ch[c], ...bottom.ch[c]])) as unknown as RGB]]
        : [[designed[0], top.color], [designed[designed.length - 1], bottom.color]];
  let shift: RGB = [0, 0, 0];
  if (context === 'striped') {
    // From the strips that show stripes (an occluded strip has no halves).
    const strips = [top, bottom].filter((r) => r.stripe > 0.04);
    const seen = [0, 1, 2].map((c) => strips.reduce((a, r) => a + r.dark[c] + r.light[c], 0) / (2 * strips.length));
    shift = [0, 1, 2].map((c) => seen[c] - (designed[0][c] + designed[1][c]) / 2) as unknown as RGB;
  } else if (context === 'dotted') shift = [0, 1, 2].map((c) => (top.color[c] + bottom.color[c]) / 2 - designed[0][c]) as unknown as RGB;
  else shift = [0, 1, 2].map((c) => measured.reduce((a, [d, m]) => a + m[c] - d[c], 0) / measured.length) as unknown as RGB;
  const colors = designed.map((d, i): RGB => {
    if (context !== 'striped' && context !== 'dotted') {
      if (i === 0 && designed.length > 1) return top.color;
      if (i === designed.length - 1) return designed.length === 1 ? ([0, 1, 2].map((c) => median([...top.ch[c], ...bottom.ch[c]])) as unknown as RGB) : bottom.color;
    }
    return [d[0] + shift[0], d[1] + shift[1], d[2] + shift[2]];
  });
  return { context, colors, shift, stripeScore, dotScore };
}

/**
 * Dots sit on a known grid: the median, over the dots along the border, of how much brighter a dot's center is than
 * the point between it and the next dot. Objects cover a few dots at most; the median ignores them.
 */
function dotContrast(img: Pixels): number {
  const n = Math.round(1 / DOT_SPACING);
  const at = (x: number, y: number) => luma(img.data, Math.min(W - 1, Math.floor(y * W)) * W + Math.min(W - 1, Math.floor(x * W)));
  const diffs: number[] = [];
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if (i !== 0 && j !== 0 && i !== n - 1 && j !== n - 1) continue;
      const [x, y] = [(i + 0.5) * DOT_SPACING, (j + 0.5) * DOT_SPACING];
      const between = at(x + (i < n - 1 ? 0.5 : -0.5) * DOT_SPACING, y);
      diffs.push(at(x, y) - between);
    }
  return median(diffs);
}

const luma3 = (c: RGB) => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];

/**
 * Where each of a context's colors can appear (image units), so that white markings on an object in the snow's sky
 * or between the dots are not mistaken for snow or dots: grounds stay below their horizon, dots on their grid.
 */
export function colorSupport(context: Context, index: number): (x: number, y: number) => boolean {
  const band = (lo: number, hi: number) => (_x: number, y: number) => y >= lo && y <= hi;
  switch (context) {
    case 'snow':
    case 'grass':
      return index === 0 ? band(-1, GROUND_Y + 0.03) : band(GROUND_Y - 0.08, 2);
    case 'beach':
      return [band(-1, 0.6), band(0.52, GROUND_Y + 0.04), band(GROUND_Y - 0.04, 2)][index];
    case 'dotted':
      if (index === 0) return () => true;
      return (x, y) => {
        const gx = (Math.floor(x / DOT_SPACING) + 0.5) * DOT_SPACING, gy = (Math.floor(y / DOT_SPACING) + 0.5) * DOT_SPACING;
        return (x - gx) ** 2 + (y - gy) ** 2 <= (DOT_RADIUS + 0.03) ** 2;
      };
    default:
      return () => true;
  }
}
