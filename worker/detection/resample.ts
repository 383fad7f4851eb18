import type { RawImage } from './face-types.js';

/** A region of a picture: centre, size (picture pixels) and clockwise turn in degrees. */
export interface Region {
  cx: number;
  cy: number;
  w: number;
  h: number;
  /** The picture's content appears turned back by this much in the sample. */
  angle: number;
}

/**
 * A region of a picture resampled to `outWidth`×`outHeight` RGB, bilinearly (edge pixels repeat outside);
 * sample pixel (u, v) shows the picture at {@link regionToPicture}(region, …, u + ½, v + ½). Callers take
 * the picture from the pyramid level where the region is at most twice the output (see
 * ImagePyramid.levelFor), so bilinear sampling does not alias. Written here rather than with sharp because
 * the callers need a few thousand pixels of a face, where a sharp pipeline's fixed cost (a libuv hop, a
 * copy of the whole frame into libvips) would exceed the work.
 */
export function sampleRegion(img: RawImage, region: Region, outWidth: number, outHeight: number): RawImage {
  const { data, width, height, channels } = img;
  const out = new Uint8Array(outWidth * outHeight * 3);
  const { ux, uy, vx, vy } = axes(region, outWidth, outHeight);
  const maxX = width - 1;
  const maxY = height - 1;
  let o = 0;
  // Clamped coordinates and sampled values are never negative, so truncation is floor and `(v + 0.5) | 0`
  // rounds (unlike Math.round only for a value within one ulp below a half): no Math calls per pixel,
  // twice as fast on the main thread.
  for (let v = 0; v < outHeight; v++) {
    const dv = v + 0.5 - outHeight / 2;
    for (let u = 0; u < outWidth; u++) {
      const du = u + 0.5 - outWidth / 2;
      const px = region.cx + ux * du + vx * dv - 0.5;
      const py = region.cy + uy * du + vy * dv - 0.5;
      const fx = px < 0 ? 0 : px > maxX ? maxX : px;
      const fy = py < 0 ? 0 : py > maxY ? maxY : py;
      const x0 = fx | 0;
      const y0 = fy | 0;
      const wx = fx - x0;
      const wy = fy - y0;
      const a = (y0 * width + x0) * channels;
      const b = x0 < maxX ? a + channels : a;
      const c = y0 < maxY ? a + width * channels : a;
      const d = x0 < maxX ? c + channels : c;
      for (let ch = 0; ch < 3; ch++) {
        const top = data[a + ch]! + (data[b + ch]! - data[a + ch]!) * wx;
        const bottom = data[c + ch]! + (data[d + ch]! - data[c + ch]!) * wx;
        out[o++] = (top + (bottom - top) * wy + 0.5) | 0;
      }
    }
  }
  return { data: out, width: outWidth, height: outHeight, channels: 3 };
}

/** A point of a {@link sampleRegion} sample (continuous coordinates) in the picture's. */
export function regionToPicture(
  region: Region,
  outWidth: number,
  outHeight: number,
  u: number,
  v: number,
): [number, number] {
  const { ux, uy, vx, vy } = axes(region, outWidth, outHeight);
  const du = u - outWidth / 2;
  const dv = v - outHeight / 2;
  return [region.cx + ux * du + vx * dv, region.cy + uy * du + vy * dv];
}

/** The picture-pixel steps of one sample pixel along u and along v. */
function axes(region: Region, outWidth: number, outHeight: number) {
  const cos = Math.cos((region.angle * Math.PI) / 180);
  const sin = Math.sin((region.angle * Math.PI) / 180);
  const ku = region.w / outWidth;
  const kv = region.h / outHeight;
  return { ux: cos * ku, uy: sin * ku, vx: -sin * kv, vy: cos * kv };
}
