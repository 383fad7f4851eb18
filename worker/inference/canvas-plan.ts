import type { Box, FaceBox } from '../detection/face-types.js';

/**
 * Laying inputs of any size out on the square canvases of a model with a fixed input (SCRFD: 640²).
 *
 * Large inputs are tiled at native scale, never shrunk to fit: the pyramid around the detector
 * (detection/scale-plan.ts) already sized each pass so that the faces it answers for are at a size the
 * model sees well, and shrinking a pass would move them out of its band. Tiles overlap by `tileOverlap`
 * px, which must be at least the largest face a tiled pass answers for plus 2·{@link EDGE_MARGIN}: then
 * the last tile starting at least a margin before a face ends at least a margin after it (tiles step by at
 * most `side − tileOverlap`), so every face is whole, off the cut edges, in some tile, and its cut copies
 * elsewhere can be dropped. Small inputs share canvases, `gap` px apart so the model's receptive field
 * mixes them little.
 */

/** Tiles allowed per input: a 64-tile input is far beyond any pass the pyramid makes. */
export const MAX_TILES_PER_INPUT = 64;
/** Inputs and tiles packed in one call; the packer's work grows with their square. */
const MAX_PIECES = 4096;
/** A face whose box comes this close (canvas px) to a tile's cut edge is taken as cut. */
export const EDGE_MARGIN = 2;

/** A rectangle `src` of input `input` (its seen pixels) copied at native scale to `dst` of a canvas. */
export interface Placement {
  input: number;
  src: Box;
  dst: { x: number; y: number };
  /** Which sides of `src` are interior tile edges, where the input was cut. */
  edges: { left: boolean; top: boolean; right: boolean; bottom: boolean };
}

export type CanvasPlan = Placement[];

export interface CanvasOptions {
  side: number;
  gap: number;
  tileOverlap: number;
}

type Piece = Omit<Placement, 'dst'>;

const spanCount = (length: number, span: number, overlap: number) =>
  length <= span ? 1 : 1 + Math.ceil((length - span) / (span - overlap));

/** Starts of `count` spans of `span` over `length`, evenly spread, the first at 0, the last ending at the end. */
function spanStarts(length: number, span: number, count: number): number[] {
  if (count === 1) return [0];
  return Array.from({ length: count }, (_, i) => Math.round((i * (length - span)) / (count - 1)));
}

function cutInput(input: number, width: number, height: number, { side, tileOverlap }: CanvasOptions) {
  const [across, down] = [spanCount(width, side, tileOverlap), spanCount(height, side, tileOverlap)];
  if (across * down > MAX_TILES_PER_INPUT)
    throw new RangeError(`input ${width}×${height} needs ${across * down} tiles`);
  const xs = spanStarts(width, side, across);
  const ys = spanStarts(height, side, down);
  const w = Math.min(width, side);
  const h = Math.min(height, side);
  return ys.flatMap((y, j) =>
    xs.map((x, i): Piece => {
      const edges = { left: i > 0, top: j > 0, right: i < xs.length - 1, bottom: j < ys.length - 1 };
      return { input, src: { x, y, w, h }, edges };
    }),
  );
}

function checkOptions({ side, gap, tileOverlap }: CanvasOptions) {
  const whole = [side, gap, tileOverlap].every(Number.isInteger);
  if (!whole || side < 1 || gap < 0 || tileOverlap < 0 || tileOverlap >= side)
    throw new RangeError(`canvas side ${side}, gap ${gap}, tile overlap ${tileOverlap}`);
}

interface Shelf {
  y: number;
  height: number;
  x: number;
}

/**
 * Shelf packing, tallest first (ties in input order, so it is deterministic): a piece goes on the first
 * shelf of the first canvas where it fits, else on a new shelf of the first canvas with room below, else
 * on a new canvas. Pieces on a shelf, and shelves, are `gap` apart; the canvas border needs no gap.
 */
function pack(pieces: Piece[], { side, gap }: CanvasOptions): CanvasPlan[] {
  const order = pieces.map((p, i) => ({ p, i })).sort((a, b) => b.p.src.h - a.p.src.h || a.i - b.i);
  const canvases: { plan: CanvasPlan; shelves: Shelf[] }[] = [];
  for (const { p } of order) {
    const { w, h } = p.src;
    const place = (shelf: Shelf, plan: CanvasPlan) => {
      plan.push({ ...p, dst: { x: shelf.x, y: shelf.y } });
      shelf.x += w + gap;
    };
    const onShelf = (c: (typeof canvases)[number]) => {
      const shelf = c.shelves.find((s) => h <= s.height && s.x + w <= side);
      if (shelf) place(shelf, c.plan);
      return shelf !== undefined;
    };
    const below = (c: (typeof canvases)[number]) => {
      const last = c.shelves[c.shelves.length - 1];
      const y = last ? last.y + last.height + gap : 0;
      if (y + h > side) return false;
      const shelf = { y, height: h, x: 0 };
      c.shelves.push(shelf);
      place(shelf, c.plan);
      return true;
    };
    if (canvases.some(onShelf) || canvases.some(below)) continue;
    const fresh = { plan: [], shelves: [] };
    canvases.push(fresh);
    below(fresh);
  }
  return canvases.map((c) => c.plan);
}

/**
 * Lays out inputs of the given seen sizes (after the view's turn) on `side`×`side` canvases: an input
 * that fits goes whole, several sharing a canvas; a larger one is cut into overlapping tiles.
 */
export function planCanvases(
  sizes: { width: number; height: number }[],
  options: CanvasOptions,
): CanvasPlan[] {
  checkOptions(options);
  const pieces: Piece[] = [];
  for (const [input, { width, height }] of sizes.entries()) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
      throw new RangeError(`input ${input} is ${width}×${height}`);
    pieces.push(...cutInput(input, width, height, options));
    if (pieces.length > MAX_PIECES) throw new RangeError(`more than ${MAX_PIECES} inputs and tiles`);
  }
  return pack(pieces, options);
}

function isCut(face: Box, p: Placement): boolean {
  const [x, y] = [face.x - p.dst.x, face.y - p.dst.y];
  return (
    (p.edges.left && x < EDGE_MARGIN) ||
    (p.edges.top && y < EDGE_MARGIN) ||
    (p.edges.right && x + face.w > p.src.w - EDGE_MARGIN) ||
    (p.edges.bottom && y + face.h > p.src.h - EDGE_MARGIN)
  );
}

function toInput(face: FaceBox, p: Placement): FaceBox {
  const [dx, dy] = [p.src.x - p.dst.x, p.src.y - p.dst.y];
  const x0 = Math.max(face.x + dx, p.src.x);
  const y0 = Math.max(face.y + dy, p.src.y);
  const x1 = Math.min(face.x + face.w + dx, p.src.x + p.src.w);
  const y1 = Math.min(face.y + face.h + dy, p.src.y + p.src.h);
  const landmarks = face.landmarks.map((v, k) => v + (k % 2 === 0 ? dx : dy));
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0, score: face.score, landmarks };
}

/**
 * Faces found on each canvas (canvas px), per input in the input's seen px. A face belongs to the
 * placement holding its box's centre (none: it lies in padding, and is dropped); in a tile, a face
 * touching a cut edge is dropped, as its whole copy is in a neighbour. The box is clipped to the
 * placement's `src`. A face in the overlap of two tiles comes once from each: the caller's NMS merges them.
 */
export function facesToInputs(
  canvasFaces: FaceBox[][],
  plans: CanvasPlan[],
  inputCount: number,
): FaceBox[][] {
  if (canvasFaces.length !== plans.length)
    throw new RangeError(`${canvasFaces.length} canvases of faces for ${plans.length} plans`);
  const perInput: FaceBox[][] = Array.from({ length: inputCount }, () => []);
  for (const [c, faces] of canvasFaces.entries()) {
    for (const face of faces) {
      const [cx, cy] = [face.x + face.w / 2, face.y + face.h / 2];
      const p = plans[c]!.find(
        ({ dst, src }) => cx >= dst.x && cx < dst.x + src.w && cy >= dst.y && cy < dst.y + src.h,
      );
      if (!p || isCut(face, p)) continue;
      const out = perInput[p.input];
      if (!out) throw new RangeError(`placement of input ${p.input}, beyond ${inputCount} inputs`);
      out.push(toInput(face, p));
    }
  }
  return perInput;
}
