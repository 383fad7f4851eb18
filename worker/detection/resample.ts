import type { Box, RawImage } from './face-types.js';

/**
 * A box of a picture resampled to `outWidth`×`outHeight` RGB, bilinearly; outside the picture the edge
 * pixels repeat. Written here rather than with sharp because the callers need a few thousand pixels of a
 * face, where a sharp pipeline's fixed cost (a libuv hop, a copy of the whole frame into libvips) would
 * exceed the work.
 */
export function resample(img: RawImage, box: Box, outWidth: number, outHeight: number): RawImage {
  const { data, width, height, channels } = img;
  const out = new Uint8Array(outWidth * outHeight * 3);
  const sx = box.w / outWidth;
  const sy = box.h / outHeight;
  let o = 0;
  for (let j = 0; j < outHeight; j++) {
    const fy = Math.min(height - 1, Math.max(0, box.y + (j + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(height - 1, y0 + 1);
    const wy = fy - y0;
    for (let i = 0; i < outWidth; i++) {
      const fx = Math.min(width - 1, Math.max(0, box.x + (i + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(width - 1, x0 + 1);
      const wx = fx - x0;
      const a = (y0 * width + x0) * channels;
      const b = (y0 * width + x1) * channels;
      const c = (y1 * width + x0) * channels;
      const d = (y1 * width + x1) * channels;
      for (let k = 0; k < 3; k++) {
        const top = data[a + k]! + (data[b + k]! - data[a + k]!) * wx;
        const bottom = data[c + k]! + (data[d + k]! - data[c + k]!) * wx;
        out[o++] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
  return { data: out, width: outWidth, height: outHeight, channels: 3 };
}

/** A square of a picture: centre, side (picture pixels) and clockwise turn in degrees. */
export interface Square {
  cx: number;
  cy: number;
  side: number;
  /** The picture's content appears turned back by this much in the sample. */
  angle: number;
}

/**
 * A turned square of a picture, resampled to `size`×`size` RGB bilinearly (edge pixels repeat outside).
 * Sample pixel (u, v) shows the picture at {@link squareToPicture}(square, size, u + ½, v + ½).
 */
export function sampleSquare(img: RawImage, square: Square, size: number): RawImage {
  const { data, width, height, channels } = img;
  const out = new Uint8Array(size * size * 3);
  const k = square.side / size;
  const cos = Math.cos((square.angle * Math.PI) / 180) * k;
  const sin = Math.sin((square.angle * Math.PI) / 180) * k;
  let o = 0;
  for (let v = 0; v < size; v++) {
    const dv = v + 0.5 - size / 2;
    for (let u = 0; u < size; u++) {
      const du = u + 0.5 - size / 2;
      const fx = Math.min(width - 1, Math.max(0, square.cx + cos * du - sin * dv - 0.5));
      const fy = Math.min(height - 1, Math.max(0, square.cy + sin * du + cos * dv - 0.5));
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const x1 = Math.min(width - 1, x0 + 1);
      const y1 = Math.min(height - 1, y0 + 1);
      const wx = fx - x0;
      const wy = fy - y0;
      const a = (y0 * width + x0) * channels;
      const b = (y0 * width + x1) * channels;
      const c = (y1 * width + x0) * channels;
      const d = (y1 * width + x1) * channels;
      for (let ch = 0; ch < 3; ch++) {
        const top = data[a + ch]! + (data[b + ch]! - data[a + ch]!) * wx;
        const bottom = data[c + ch]! + (data[d + ch]! - data[c + ch]!) * wx;
        out[o++] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
  return { data: out, width: size, height: size, channels: 3 };
}

/** A point of a {@link sampleSquare} sample (continuous coordinates) in the picture's. */
export function squareToPicture(square: Square, size: number, u: number, v: number): [number, number] {
  const k = square.side / size;
  const cos = Math.cos((square.angle * Math.PI) / 180) * k;
  const sin = Math.sin((square.angle * Math.PI) / 180) * k;
  const du = u - size / 2;
  const dv = v - size / 2;
  return [square.cx + cos * du - sin * dv, square.cy + sin * du + cos * dv];
}
