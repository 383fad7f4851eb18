import type { FaceBox } from '../detection/face-types.js';

export const YUNET_STRIDES = [8, 16, 32] as const;

/** The model's twelve output tensors, by name (`cls_8`, `obj_8`, `bbox_8`, `kps_8`, … for strides 16 and 32). */
export type YunetOutputs = Record<string, Float32Array>;

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/**
 * Decodes YuNet's raw outputs for one image of `inputWidth`×`inputHeight` (multiples of 32) into boxes in
 * input pixels, exactly by the model's published rule: score = √(cls·obj); centre = ((col+b0)·s, (row+b1)·s);
 * size = (e^b2·s, e^b3·s); landmark n = ((k2n+col)·s, (k2n+1+row)·s). No NMS here.
 */
export function decodeYunet(
  outputs: YunetOutputs,
  inputWidth: number,
  inputHeight: number,
  scoreThreshold: number,
  maxFaces = MAX_FACES_PER_RUN,
): FaceBox[] {
  const threshold = Math.max(scoreThreshold, cutoff(outputs, scoreThreshold, maxFaces));
  const faces: FaceBox[] = [];
  for (const s of YUNET_STRIDES) {
    const cls = outputs[`cls_${s}`];
    const obj = outputs[`obj_${s}`];
    const bbox = outputs[`bbox_${s}`];
    const kps = outputs[`kps_${s}`];
    if (!cls || !obj || !bbox || !kps) throw new Error(`YuNet output for stride ${s} is missing`);
    const cols = inputWidth / s;
    const cells = cols * (inputHeight / s);
    if (cls.length !== cells) {
      throw new Error(
        `YuNet stride ${s}: expected ${cells} cells for ${inputWidth}x${inputHeight}, got ${cls.length}`,
      );
    }
    for (let i = 0; i < cells; i++) {
      const score = Math.sqrt(clamp01(cls[i]!) * clamp01(obj[i]!));
      if (score < threshold) continue;
      const col = i % cols;
      const row = (i - col) / cols;
      const cx = (col + bbox[i * 4]!) * s;
      const cy = (row + bbox[i * 4 + 1]!) * s;
      const w = Math.exp(bbox[i * 4 + 2]!) * s;
      const h = Math.exp(bbox[i * 4 + 3]!) * s;
      const landmarks = new Array<number>(10);
      for (let n = 0; n < 5; n++) {
        landmarks[2 * n] = (kps[i * 10 + 2 * n]! + col) * s;
        landmarks[2 * n + 1] = (kps[i * 10 + 2 * n + 1]! + row) * s;
      }
      faces.push({ x: cx - w / 2, y: cy - h / 2, w, h, score, landmarks });
    }
  }
  return faces;
}

/**
 * Most faces one run returns. A low threshold (min_confidence 0, or the hints' 0.3) on a large input
 * would otherwise turn every one of hundreds of thousands of cells into a box, and NMS over them is
 * quadratic; no picture holds this many faces.
 */
const MAX_FACES_PER_RUN = 1000;

/** The score of the `maxFaces`-th best cell when more pass `threshold`, else 0. */
function cutoff(outputs: YunetOutputs, threshold: number, maxFaces: number): number {
  const passing: number[] = [];
  for (const s of YUNET_STRIDES) {
    const cls = outputs[`cls_${s}`];
    const obj = outputs[`obj_${s}`];
    if (!cls || !obj) continue;
    for (let i = 0; i < cls.length; i++) {
      const score = Math.sqrt(clamp01(cls[i]!) * clamp01(obj[i]!));
      if (score >= threshold) passing.push(score);
    }
  }
  if (passing.length <= maxFaces) return 0;
  return Float32Array.from(passing).sort().reverse()[maxFaces - 1]!;
}
