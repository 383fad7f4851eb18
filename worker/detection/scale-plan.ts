import { area, coverage, faceSize, type FaceBox } from './face-types.js';
import { nms } from './nms.js';

/**
 * YuNet sees faces well between roughly 10 and 300 px at its input. Small faces need the image near full
 * resolution, while large faces break into parts there (figures: BENCHMARKS.md, "Measured behind the code"). So the image runs at a
 * pyramid of scales, halving from the finest, and each scale answers only for the face sizes it sees well.
 */
export interface ScalePass {
  /** Size of the resized image fed to the model (before padding to multiples of 32). */
  width: number;
  height: number;
  /** Faces whose size (√(w·h), input pixels) falls in [minFace, maxFace) count at this scale. */
  minFace: number;
  maxFace: number;
}

export interface ScalePlanOptions {
  /** Longest side of the finest pass. */
  maxSide: number;
  /**
   * How far the finest pass may enlarge a small image.
   * @defaultValue 1
   */
  maxUpscale?: number;
  /**
   * The coarsest pass's longest side is at most this, so a face filling the frame is within the model's
   * range there.
   * @defaultValue 320
   */
  coarsestSide?: number;
  /**
   * Face size above which a finer scale defers to the next coarser one.
   * @defaultValue 160
   */
  bandUpper?: number;
  /**
   * Factor by which neighbouring bands overlap, so a face near a boundary is never lost; NMS removes the
   * resulting duplicates.
   * @defaultValue 1.25
   */
  overlap?: number;
}

/** The default factor by which neighbouring bands overlap (ScalePlanOptions.overlap). */
export const BAND_OVERLAP = 1.25;

export function planScales(imageWidth: number, imageHeight: number, options: ScalePlanOptions): ScalePass[] {
  const { maxSide, coarsestSide = 320, bandUpper = 160, overlap = BAND_OVERLAP } = options;
  const longest = Math.max(imageWidth, imageHeight);
  let scale = Math.min(options.maxUpscale ?? 1, maxSide / longest);
  const passes: ScalePass[] = [];
  for (;;) {
    passes.push({
      width: Math.max(1, Math.round(imageWidth * scale)),
      height: Math.max(1, Math.round(imageHeight * scale)),
      minFace: passes.length === 0 ? 0 : bandUpper / 2 / overlap,
      maxFace: bandUpper * overlap,
    });
    if (longest * scale <= coarsestSide) break;
    scale /= 2;
  }
  passes[passes.length - 1]!.maxFace = Infinity;
  return passes;
}

/** Keeps the faces this pass answers for and maps them from its input pixels to the original image's. */
export function selectAndMap(
  faces: readonly FaceBox[],
  pass: ScalePass,
  imageWidth: number,
  imageHeight: number,
) {
  const sx = imageWidth / pass.width;
  const sy = imageHeight / pass.height;
  return faces
    .filter((f) => {
      const size = faceSize(f);
      return size >= pass.minFace && size < pass.maxFace;
    })
    .map((f) => ({
      x: f.x * sx,
      y: f.y * sy,
      w: f.w * sx,
      h: f.h * sy,
      score: f.score,
      landmarks: f.landmarks.map((v, i) => v * (i % 2 === 0 ? sx : sy)),
    }));
}

/**
 * Merges the passes' faces: NMS for duplicates across neighbouring scales, then drops small boxes lying
 * mostly inside a much larger face, which are the face parts and texture a fine scale finds in a close-up.
 */
export function mergeScales(faces: readonly FaceBox[], nmsIou: number): FaceBox[] {
  const kept = nms(faces, nmsIou);
  return kept.filter(
    (small) =>
      !kept.some((big) => big !== small && area(small) < 0.25 * area(big) && coverage(small, big) > 0.5),
  );
}

/**
 * The passes that can find a face whose shorter side is at least `minFaceSize` picture pixels. A pass
 * answers for faces below its `maxFace` (its own pixels); a face's shorter side is at most √(w·h), so a
 * pass whose largest face is smaller than `minFaceSize` in the picture can only find faces that would be
 * dropped. The coarsest pass is always kept.
 */
export function passesFor(passes: readonly ScalePass[], imageWidth: number, minFaceSize: number) {
  return passes
    .map((pass, index) => ({ pass, index }))
    .filter(
      ({ pass, index }) =>
        index === passes.length - 1 || pass.maxFace * (imageWidth / pass.width) >= minFaceSize,
    );
}
