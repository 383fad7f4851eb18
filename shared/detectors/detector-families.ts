/**
 * The detector families the worker can run, as data: what config validates against and what the search
 * around the model reads, so that neither imports `worker/`. Each family's code (its thread entry, tensor
 * builder and decoder) is one folder of `worker/`, named here by `thread`. Adding a family is that folder
 * plus one entry here (and its models in ./model-registry.ts).
 */

/** How a picture's pixels become the model's input values: `(pixel − mean) / std`, planar, in this order. */
interface TensorLayout {
  channelOrder: 'rgb' | 'bgr';
  mean: number;
  std: number;
}

/**
 * What input sizes the model takes. `dynamic`: any size, padded to multiples of the band's `padTo` (its
 * largest stride). `fixed`: exactly that size; every input is tiled or packed into it. A family whose
 * files come both ways says `dynamic-or-fixed`, and the thread reads which from the file.
 */
type InputRule =
  { kind: 'dynamic' } | { kind: 'fixed'; width: number; height: number } | { kind: 'dynamic-or-fixed' };

/**
 * The face sizes one pass of the model sees well, which the scale plan and the mirror windows read
 * (../../worker/detection/scale-plan.ts, mirror-windows.ts).
 */
export interface FaceBand {
  /** The coarsest pass's longest side is at most this, so a face filling the frame is in range there. */
  coarsestSide: number;
  /** Face size (√(w·h), input pixels) above which a finer pass defers to the next coarser one. */
  bandUpper: number;
  /** How far the finest pass may enlarge a small picture, for faces below the model's floor. */
  maxUpscale: number;
  /** Input sides are padded to multiples of this (the largest stride), which a mirror window's cost counts. */
  padTo: number;
}

/**
 * Where the model's scores lie, which differ by family: what a default `min_confidence` is, and the
 * scores the orientation search weighs turns by (../../worker/detection/turn-choice.ts). Each is read
 * off the same quantiles for every family: detections at all four turns of every fourth crowd-dev photo,
 * matched to its faces.
 */
export interface ScoreScale {
  /** SCORE_THRESHOLD's default. */
  threshold: number;
  /** Least score kept as evidence, whatever the request: a face seen sideways scores low upright. */
  collectFrom: number;
  /** Above this a detection is mostly a face at its own turn (about the ninth decile of false ones). */
  evidenceFrom: number;
  /** A real face seen at a wrong turn scores this less than once in a hundred (99th percentile). */
  strong: number;
}

export interface DetectorFamily {
  /** The family's inference thread, relative to `worker/` in the built tree. */
  thread: string;
  layout: TensorLayout;
  input: InputRule;
  band: FaceBand;
  scores: ScoreScale;
  /**
   * Most aligned views a large face's landmarks are refined over, each framed by the last, until they
   * settle (worker/detection/landmark-refiner.ts): a model whose landmarks lean toward upright needs more.
   */
  landmarkViews: number;
  /** Who may use which files of this family. */
  licence: string;
}

export const DETECTOR_FAMILIES = {
  yunet: {
    thread: 'yunet/yunet.thread.js',
    layout: { channelOrder: 'bgr', mean: 0, std: 1 },
    input: { kind: 'dynamic' },
    // YuNet is reliable for faces of about 10–300 px at its input (opencv_zoo README); above that it
    // returns face parts (figures: BENCHMARKS.md, "Measured behind the code").
    band: { coarsestSide: 320, bandUpper: 160, maxUpscale: 1, padTo: 32 },
    // Real faces at a wrong turn: 99th percentile 0.90; false detections: ninth decile 0.75.
    scores: { threshold: 0.6, collectFrom: 0.3, evidenceFrom: 0.7, strong: 0.9 },
    // A 20° turn reads 16.3° after one view, 19.3° settled (BENCHMARKS.md, "Measured behind the code").
    landmarkViews: 4,
    licence: 'Apache-2.0 (libfacedetection.train)',
  },
  scrfd: {
    thread: 'scrfd/scrfd.thread.js',
    layout: { channelOrder: 'rgb', mean: 127.5, std: 128 },
    input: { kind: 'dynamic-or-fixed' },
    // Trained at 640 with anchors of 16–512 px: the whole picture at 640 holds the largest faces.
    band: { coarsestSide: 640, bandUpper: 160, maxUpscale: 1, padTo: 32 },
    // SCRFD-2.5G scores lower than YuNet: real faces at their own turn 0.63 (median), at a wrong turn
    // 0.77 (99th percentile); false detections 0.53 (ninth decile). 0.5 is InsightFace's own threshold.
    scores: { threshold: 0.5, collectFrom: 0.25, evidenceFrom: 0.6, strong: 0.77 },
    // One view keeps the pose development set's checks as settling does, and on a fixed 640² input each
    // further view costs a canvas (BENCHMARKS.md, "Accuracy and speed per detector").
    landmarkViews: 1,
    licence:
      "InsightFace's pretrained SCRFD models: non-commercial research only; bring a file you are licensed for",
  },
} as const satisfies Record<string, DetectorFamily>;

export type FamilyName = keyof typeof DETECTOR_FAMILIES;

export const FAMILY_NAMES = Object.keys(DETECTOR_FAMILIES) as FamilyName[];
