import { iou, type FaceBox } from './face-types.js';

/** Greedy non-maximum suppression: keeps the best-scoring box of every group overlapping above `iouThreshold`. */
export function nms(boxes: readonly FaceBox[], iouThreshold: number): FaceBox[] {
  const sorted = [...boxes].sort((a, b) => b.score - a.score);
  const kept: FaceBox[] = [];
  for (const box of sorted) {
    if (kept.every((k) => iou(k, box) <= iouThreshold)) kept.push(box);
  }
  return kept;
}
