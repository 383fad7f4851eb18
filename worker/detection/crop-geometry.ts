import type { Point, Region } from '../../shared/contract/api-contract.js';

/** The face region grown by `ratio` of its width and height on every side, in integers, clamped to the image. */
export function expandRegion(region: Region, ratio: number, width: number, height: number): Region {
  const [x, y, w, h] = region;
  const x0 = Math.max(0, Math.round(x - ratio * w));
  const y0 = Math.max(0, Math.round(y - ratio * h));
  const x1 = Math.min(width, Math.round(x + w + ratio * w));
  const y1 = Math.min(height, Math.round(y + h + ratio * h));
  return [x0, y0, Math.max(0, x1 - x0), Math.max(0, y1 - y0)];
}

/** Landmarks relative to a crop's top-left corner. */
export function relativeTo(landmarks: readonly Point[], crop: Region): Point[] {
  return landmarks.map(([x, y]) => [x - crop[0], y - crop[1]]);
}
