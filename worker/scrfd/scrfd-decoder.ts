import { ModelError } from '../../shared/errors/errors.js';
import type { FaceBox } from '../detection/face-types.js';

export const SCRFD_STRIDES = [8, 16, 32] as const;

/** Each cell of each stride carries this many anchors, stored consecutively (cell c → rows 2c, 2c+1). */
const ANCHORS_PER_CELL = 2;

/** Values per anchor in the score, box-distance and keypoint-distance outputs. */
const GROUP_WIDTHS = [1, 4, 10] as const;
const GROUP_NAMES = ['scores', 'box distances', 'keypoint distances'] as const;

/** The 9 outputs of a keypoint SCRFD: scores, boxes, keypoints, each for strides 8, 16, 32. */
const OUTPUT_COUNT = SCRFD_STRIDES.length * GROUP_WIDTHS.length;

/** One output tensor as the session returns it: `[1, N, k]` (batched export) or `[N, k]` (InsightFace's). */
export interface ScrfdTensor {
  data: Float32Array;
  dims: readonly number[];
}

/** What a session says about one output before any run: its name and (possibly symbolic) shape. */
export interface ScrfdOutputInfo {
  name: string;
  shape: readonly (number | string)[];
}

/**
 * Most faces one run returns. A low threshold on a large input would otherwise turn every one of tens of
 * thousands of anchors into a box, and NMS over them is quadratic; no picture holds this many faces.
 */
const MAX_FACES_PER_RUN = 1000;

/**
 * Decodes a keypoint SCRFD's 9 outputs (in the session's output order) for one `inputWidth`×`inputHeight`
 * input (multiples of 32) into boxes in input pixels, by InsightFace's rule: anchor centre (col·s, row·s);
 * box = centre − (d0, d1)·s to centre + (d2, d3)·s; landmark n = centre + (k2n, k2n+1)·s. Scores are
 * already probabilities. Landmarks keep the model's order (eyes, nose, mouth corners). No NMS here.
 */
export function decodeScrfd(
  outputs: readonly ScrfdTensor[],
  inputWidth: number,
  inputHeight: number,
  scoreThreshold: number,
  maxFaces = MAX_FACES_PER_RUN,
): FaceBox[] {
  if (outputs.length !== OUTPUT_COUNT) {
    throw new Error(`SCRFD: expected ${OUTPUT_COUNT} outputs, got ${outputs.length}`);
  }
  if (inputWidth % 32 !== 0 || inputHeight % 32 !== 0 || inputWidth <= 0 || inputHeight <= 0) {
    throw new Error(`SCRFD: input ${inputWidth}x${inputHeight} is not a positive multiple of 32`);
  }
  const levels = SCRFD_STRIDES.map((s, idx) => level(outputs, idx, s, inputWidth, inputHeight));
  const threshold = Math.max(scoreThreshold, cutoff(levels, scoreThreshold, maxFaces));
  const faces: FaceBox[] = [];
  for (const { stride: s, cols, scores, boxes, kps } of levels) {
    for (let i = 0; i < scores.length; i++) {
      const score = scores[i]!;
      if (!(score >= threshold)) continue;
      const cell = (i - (i % ANCHORS_PER_CELL)) / ANCHORS_PER_CELL;
      const col = cell % cols;
      const cx = col * s;
      const cy = ((cell - col) / cols) * s;
      const x1 = cx - boxes[i * 4]! * s;
      const y1 = cy - boxes[i * 4 + 1]! * s;
      const x2 = cx + boxes[i * 4 + 2]! * s;
      const y2 = cy + boxes[i * 4 + 3]! * s;
      const landmarks = new Array<number>(10);
      for (let n = 0; n < 5; n++) {
        landmarks[2 * n] = cx + kps[i * 10 + 2 * n]! * s;
        landmarks[2 * n + 1] = cy + kps[i * 10 + 2 * n + 1]! * s;
      }
      faces.push({ x: x1, y: y1, w: x2 - x1, h: y2 - y1, score, landmarks });
    }
  }
  return faces;
}

/**
 * Throws a ModelError unless a session's outputs look like a keypoint SCRFD's: 9 outputs, each `[N, k]` or
 * `[1, N, k]` with k = 1, 4, 10 for the scores, boxes and keypoints groups. Symbolic dimensions pass.
 */
export function checkScrfdOutputs(outputs: readonly ScrfdOutputInfo[], modelPath: string): void {
  const refuse = (why: string) => {
    throw new ModelError(`Model file ${modelPath} is not a keypoint SCRFD detector: ${why}.`);
  };
  if (outputs.length !== OUTPUT_COUNT) {
    refuse(`it has ${outputs.length} outputs, expected ${OUTPUT_COUNT}`);
  }
  outputs.forEach(({ name, shape }, i) => {
    const group = Math.floor(i / SCRFD_STRIDES.length);
    const k = GROUP_WIDTHS[group]!;
    const rank = shape.length;
    const lead = shape[0];
    const last = shape[rank - 1];
    const fits =
      (rank === 2 || (rank === 3 && (lead === 1 || typeof lead === 'string'))) &&
      (last === k || typeof last === 'string');
    if (!fits) {
      refuse(`output ${i} (${name}) has shape [${shape.join(', ')}], expected [N, ${k}] or [1, N, ${k}]`);
    }
  });
}

interface Level {
  stride: number;
  cols: number;
  scores: Float32Array;
  boxes: Float32Array;
  kps: Float32Array;
}

/** The three tensors of stride `s`, checked against the anchor count a `width`×`height` input gives. */
function level(
  outputs: readonly ScrfdTensor[],
  idx: number,
  s: number,
  width: number,
  height: number,
): Level {
  const cols = width / s;
  const anchors = cols * (height / s) * ANCHORS_PER_CELL;
  const [scores, boxes, kps] = GROUP_WIDTHS.map((k, group) => {
    const t = outputs[group * SCRFD_STRIDES.length + idx]!;
    checkTensor(t, anchors, k, `${GROUP_NAMES[group]!} for stride ${s}`, `${width}x${height}`);
    return t.data;
  });
  return { stride: s, cols, scores: scores!, boxes: boxes!, kps: kps! };
}

function checkTensor(t: ScrfdTensor, anchors: number, k: number, what: string, input: string): void {
  const d = t.dims;
  const shapeOk =
    (d.length === 2 && d[0] === anchors && d[1] === k) ||
    (d.length === 3 && d[0] === 1 && d[1] === anchors && d[2] === k);
  if (!shapeOk || t.data.length !== anchors * k) {
    throw new Error(
      `SCRFD ${what}: expected [${anchors}, ${k}] or [1, ${anchors}, ${k}] for ${input}, ` +
        `got [${d.join(', ')}] holding ${t.data.length} values`,
    );
  }
}

/** The score of the `maxFaces`-th best anchor when more pass `threshold`, else 0. */
function cutoff(levels: readonly Level[], threshold: number, maxFaces: number): number {
  const passing: number[] = [];
  for (const { scores } of levels) {
    for (const score of scores) if (score >= threshold) passing.push(score);
  }
  if (passing.length <= maxFaces) return 0;
  return Float32Array.from(passing).sort().reverse()[maxFaces - 1]!;
}
