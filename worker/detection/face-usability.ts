import type { Pose, Quality } from '../../shared/contract/api-contract.js';

/**
 * How much each signal weighs in usability. Size and sharpness weigh most: a swap model cannot invent
 * detail a small or blurred face lacks, while a modest turn or dim light degrades it more gently.
 */
export const USABILITY_WEIGHTS = { size: 0.3, sharpness: 0.3, frontal: 0.25, lighting: 0.15 } as const;

/** Face size (√(w·h), px) from which size counts fully: swap models work on 128–256 px aligned faces. */
export const FULL_SIZE_PX = 256;

/** Turn away from frontal (√(yaw² + pitch²), degrees) at which frontality reaches 0. */
const PROFILE_DEGREES = 90;

export interface UsabilityInput {
  /** `[x, y, w, h]` in pixels. */
  region: readonly [number, number, number, number];
  pose: Pose;
  quality: Quality;
}

/**
 * How usable a face is for a face swap, 0–1: the weighted sum of
 * - size: √(w·h) / 256 px, capped at 1;
 * - sharpness: the quality's sharpness as it is;
 * - frontal: 1 − √(yaw² + pitch²) / 90°, floored at 0 (roll is left out: alignment undoes it);
 * - lighting: 1 − ((brightness − 0.5) / 0.5)², 1 at mid-grey, 0 at black or white.
 * Rounded to 4 decimals, so equal faces compare equal.
 */
export function faceUsability({ region, pose, quality }: UsabilityInput): number {
  const w = USABILITY_WEIGHTS;
  const size = Math.min(1, Math.sqrt(Math.max(0, region[2]) * Math.max(0, region[3])) / FULL_SIZE_PX);
  const frontal = Math.max(0, 1 - Math.hypot(pose.yaw, pose.pitch) / PROFILE_DEGREES);
  const lighting = Math.max(0, 1 - ((quality.brightness - 0.5) / 0.5) ** 2);
  const sharpness = Math.min(1, Math.max(0, quality.sharpness));
  const value = w.size * size + w.sharpness * sharpness + w.frontal * frontal + w.lighting * lighting;
  return Math.round(value * 10_000) / 10_000;
}
