import { faceSize, type Box, type FaceBox, type RawImage } from './face-types.js';

export interface MirrorWindowOptions {
  /**
   * Context kept around each face, in face sizes (√(w·h)) on every side, so the model sees the face as it
   * does in the whole picture.
   * @defaultValue 2
   */
  context?: number;
  /**
   * Least context on every side, pixels.
   * @defaultValue 48
   */
  minContext?: number;
  /**
   * Above this share of the picture's area, the windows are not worth it: the whole picture runs.
   * @defaultValue 0.5
   */
  maxShare?: number;
  /**
   * More faces than this are a crowd, checked in the whole picture: each window is a model run of its
   * own, and this also bounds the joining work.
   * @defaultValue 16
   */
  maxFaces?: number;
  /**
   * The detector pads each input to multiples of this (YuNet's largest stride), which a window's cost
   * counts.
   * @defaultValue 32
   */
  padTo?: number;
}

/**
 * Windows of a `width`×`height` picture that hold every face with its context, overlapping windows
 * joined, in whole pixels; or `undefined` when they would cover more than `maxShare` of the picture (or
 * there are more than `maxFaces`), so that one pass over the whole of it is cheaper. The mirrored check
 * of a few small faces then looks at a few thousand pixels instead of the whole finest pass (see
 * PyramidSearch).
 */
export function mirrorWindows(
  faces: readonly FaceBox[],
  width: number,
  height: number,
  options: MirrorWindowOptions = {},
): Box[] | undefined {
  const { context = 2, minContext = 48, maxShare = 0.5, maxFaces = 16, padTo = 32 } = options;
  if (faces.length > maxFaces) return undefined;
  let windows = faces.map((f) => {
    const pad = Math.max(minContext, context * faceSize(f));
    const x0 = Math.max(0, Math.floor(f.x - pad));
    const y0 = Math.max(0, Math.floor(f.y - pad));
    const x1 = Math.min(width, Math.ceil(f.x + f.w + pad));
    const y1 = Math.min(height, Math.ceil(f.y + f.h + pad));
    return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
  });
  // Joining two windows can make the result overlap a third, so join until none overlap. Each join removes
  // a window, so this ends after at most as many joins as there are faces.
  for (let joined = true; joined;) {
    joined = false;
    const out: Box[] = [];
    for (const w of windows) {
      const i = out.findIndex((o) => overlaps(o, w));
      if (i < 0) {
        out.push(w);
        continue;
      }
      out[i] = union(out[i]!, w);
      joined = true;
    }
    windows = out;
  }
  const padded = (side: number) => Math.ceil(side / padTo) * padTo;
  const covered = windows.reduce((sum, w) => sum + padded(w.w) * padded(w.h), 0);
  return covered > maxShare * width * height ? undefined : windows.filter((w) => w.w > 0 && w.h > 0);
}

/** The pixels of `box` (whole pixels, inside the image), copied out row by row. */
export function cropImage(image: RawImage, box: Box): RawImage {
  const { channels } = image;
  const rowBytes = box.w * channels;
  const data = new Uint8Array(box.h * rowBytes);
  for (let y = 0; y < box.h; y++) {
    const start = ((box.y + y) * image.width + box.x) * channels;
    data.set(image.data.subarray(start, start + rowBytes), y * rowBytes);
  }
  return { data, width: box.w, height: box.h, channels };
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

function union(a: Box, b: Box): Box {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
}
