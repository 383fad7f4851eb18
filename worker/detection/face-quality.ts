import type { Box, RawImage } from './face-types.js';
import { sampleRegion } from './resample.js';

export interface FaceQuality {
  /** Focus, 0 (a smear) to 1 (crisp): the Laplacian's variance v at a fixed size, as v / (v + SHARPNESS_HALF). */
  sharpness: number;
  /** Mean luma (Rec. 601), 0 black to 1 white. */
  brightness: number;
}

/** The face is measured at this size, so the figures do not depend on its size in pixels. */
export const QUALITY_SIDE = 64;

/**
 * The Laplacian variance at which sharpness reads 0.5. On the fixtures: crisp portraits read 0.90–0.97;
 * obama.jpg blurred by a Gaussian of σ = 3 px and 5 px (its face is 230 px wide) reads 0.83 and 0.62;
 * faces of 20–30 px in a dim group photo read 0.3–0.7, and dark, tiny ones below 0.1.
 */
const SHARPNESS_HALF = 100;

/**
 * Sharpness and brightness of a face's box in `pixels` (`scale` from the reported pixels to these; pass
 * the level where the face is at most twice 64 px, see ImagePyramid.levelFor). A face smaller than 64 px
 * is enlarged to be measured, which softens it: small faces read as less sharp, which is also how a
 * recogniser sees them.
 */
export function faceQuality(pixels: RawImage, box: Box, scale: number): FaceQuality {
  const w = Math.max(1, box.w * scale);
  const h = Math.max(1, box.h * scale);
  const region = { cx: box.x * scale + w / 2, cy: box.y * scale + h / 2, w, h, angle: 0 };
  const face = sampleRegion(pixels, region, QUALITY_SIDE, QUALITY_SIDE);
  const n = QUALITY_SIDE;
  const luma = new Float32Array(n * n);
  let sum = 0;
  for (let i = 0, p = 0; i < n * n; i++, p += 3) {
    luma[i] = 0.299 * face.data[p]! + 0.587 * face.data[p + 1]! + 0.114 * face.data[p + 2]!;
    sum += luma[i]!;
  }
  let lapSum = 0;
  let lapSq = 0;
  for (let y = 1; y < n - 1; y++) {
    for (let x = 1; x < n - 1; x++) {
      const i = y * n + x;
      const lap = luma[i - 1]! + luma[i + 1]! + luma[i - n]! + luma[i + n]! - 4 * luma[i]!;
      lapSum += lap;
      lapSq += lap * lap;
    }
  }
  const count = (n - 2) * (n - 2);
  const variance = Math.max(0, lapSq / count - (lapSum / count) ** 2);
  return {
    sharpness: round3(variance / (variance + SHARPNESS_HALF)),
    brightness: round3(sum / (n * n) / 255),
  };
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
