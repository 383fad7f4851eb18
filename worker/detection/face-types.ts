/** Raw interleaved 8-bit pixels as sharp or ffmpeg hand them over (RGB or RGBA). */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** An axis-aligned box: top-left corner and size. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A detected face in some pixel space: box, score, and the detector's 5 landmarks as x,y pairs. */
export interface FaceBox extends Box {
  score: number;
  /**
   * Left eye, right eye, nose tip, left mouth corner, right mouth corner, as `[x0,y0,…,x4,y4]`. "Left" is
   * image-left with the face seen upright, so the order follows the subject whatever the picture's turn.
   */
  landmarks: number[];
}

export function area(b: Box): number {
  return Math.max(0, b.w) * Math.max(0, b.h);
}

/** √(w·h): the size the detector's scale bands are defined on. */
export function faceSize(b: Box): number {
  return Math.sqrt(area(b));
}

function intersection(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  return ix * iy;
}

export function iou(a: Box, b: Box): number {
  const inter = intersection(a, b);
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

/** The share of `inner` that lies inside `outer`. */
export function coverage(inner: Box, outer: Box): number {
  const a = area(inner);
  return a > 0 ? intersection(inner, outer) / a : 0;
}

/** A `[x, y, w, h]` tuple, as the answer's regions are, as a box. */
export const boxOf = (r: readonly [number, number, number, number]): Box => ({
  x: r[0],
  y: r[1],
  w: r[2],
  h: r[3],
});
