/** `[x, y, w, h]` as the answer gives it. */
export type Region = [number, number, number, number];

/** Intersection over union of two answer regions. */
export function regionIou(a: Region, b: Region): number {
  const ix = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
  return (ix * iy) / (a[2] * a[3] + b[2] * b[3] - ix * iy);
}
