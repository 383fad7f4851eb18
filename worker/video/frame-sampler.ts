/**
 * Which frames of a video are sampled, and how to reach them. Pure: numbers in, numbers out.
 */

export interface FrameSample {
  /** Position among the samples, from 0. */
  index: number;
  /** The source frame's number in display order. */
  frameNumber: number;
  /** `frameNumber` as the key of `faces_obj`. */
  key: string;
  /** Presentation time in seconds, rounded to milliseconds: the contract's `frame_time`. */
  time: number;
  /** Exact presentation time in seconds, as the timeline gives it: what extraction seeks to. */
  pts: number;
}

/**
 * Frame k of n is source frame round(k · total / n): evenly spread, the first is frame 0. A video with
 * fewer frames than asked gives each of its frames once.
 */
export function sampleFrameIndexes(total: number, n: number): number[] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  const picked: number[] = [];
  for (let k = 0; k < n && total > 0; k += 1) {
    const frame = Math.min(total - 1, Math.round((k * total) / n));
    if (picked.at(-1) !== frame) picked.push(frame);
  }
  return picked;
}

/**
 * The n samples of a video of `count` frames, frame i presented at `ptsOf(i)` seconds (ascending).
 * `frame_time` counts from `origin`, the container's start, as a player's clock and `ffmpeg -ss` do.
 */
export function planSamples(
  timeline: { count: number; ptsOf(i: number): number },
  n: number,
  origin = 0,
): FrameSample[] {
  return sampleFrameIndexes(timeline.count, n).map((frameNumber, index) => {
    const pts = timeline.ptsOf(frameNumber);
    const time = Math.max(0, Math.round((pts - origin) * 1000) / 1000);
    return { index, frameNumber, key: String(frameNumber), time, pts };
  });
}

/**
 * Whether one decoding pass up to the last sample costs less than a seek per sample. A seek decodes
 * from the keyframe at or before its frame and pays one ffmpeg launch; the pass decodes every frame up
 * to the last sample once. Costs are in decoded frames. Without keyframe positions seeking is chosen:
 * its cost cannot explode with the video's length.
 */
export function prefersOnePass(
  frameNumbers: readonly number[],
  keyframes: readonly number[],
  launchCostFrames: number,
): boolean {
  if (keyframes.length === 0 || frameNumbers.length === 0) return false;
  let seekCost = 0;
  let k = 0;
  for (const frame of frameNumbers) {
    while (k + 1 < keyframes.length && (keyframes[k + 1] ?? Infinity) <= frame) k += 1;
    const keyframe = keyframes[k] ?? 0;
    seekCost += launchCostFrames + frame - Math.min(keyframe, frame) + 1;
  }
  const passCost = launchCostFrames + (frameNumbers.at(-1) ?? 0) + 1;
  return passCost < seekCost;
}
