import { PayloadTooLargeError, UnsupportedMediaError } from '../../shared/errors/errors.js';
import type { VideoProbe } from './video-probe.js';
import { VIDEO_MESSAGES } from './video-messages.js';

/**
 * The pictures of a video in display order. It is a function of the index rather than an array, so a
 * timeline estimated from a header costs nothing however many frames the header claims.
 */
export interface FrameTimeline {
  /** Pictures that exist: an AVI's empty "dropped frame" chunks and edit-list discards are not counted. */
  count: number;
  /** Presentation time of picture `i` (0 ≤ i < count), in seconds, as the container stamps it. */
  ptsOf(i: number): number;
  /** Display indexes of the keyframes, ascending; empty when unknown. */
  keyframes: readonly number[];
  /** False when the times are start + n / fps rather than read from the index or the packets. */
  exact: boolean;
}

export function tooManyFrames(maxFrames: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `The video has more than ${maxFrames} frames, above the limit (MAX_VIDEO_FRAMES); send a shorter video`,
  );
}

/**
 * Frame times from the header alone: start + n / fps, for a count the header claims, within our limit.
 * Only for packets that carry no timestamps at all.
 */
export function estimatedTimeline(probe: VideoProbe, maxFrames: number): FrameTimeline {
  if (probe.frameCount > maxFrames) throw tooManyFrames(maxFrames);
  const count = Math.max(1, probe.frameCount);
  const step = probe.fps > 0 ? 1 / probe.fps : 0;
  return { count, ptsOf: (i) => probe.startTime + i * step, keyframes: [], exact: false };
}

/** One packet of the video stream, in file order, as an index or ffprobe's packet list gives it. */
export interface PacketEntry {
  /** Presentation time in seconds; absent where the container stores only decoding times (AVI). */
  pts?: number;
  dts?: number;
  key: boolean;
  /** Dropped by an edit list: decoded for reference, never shown. */
  discarded: boolean;
  /** Bytes of data; 0 is an AVI's "dropped frame" chunk, which holds no picture and only moves the clock. */
  size?: number;
}

/**
 * Collects the packets of one video stream into its timeline, keeping one number per picture in typed
 * arrays and refusing the file past `maxFrames` packets. Every reader of an index or packet list feeds
 * it, so a video gets the same keys and times however it was read.
 */
export class TimelineBuilder {
  private pts = new Float64Array(1024);
  private count = 0;
  private seen = 0;
  private keyPts: number[] = [];
  private missingPts = false;
  /** No packet had a presentation time, only decoding times (AVI). */
  private decodeTimesOnly = true;

  constructor(private readonly maxFrames: number) {}

  add(packet: PacketEntry): void {
    if (this.seen++ >= this.maxFrames) throw tooManyFrames(this.maxFrames);
    if (packet.discarded || packet.size === 0) return;
    let time = packet.pts;
    if (time === undefined) time = packet.dts;
    else this.decodeTimesOnly = false;
    if (time === undefined) {
      this.missingPts = true;
      time = 0;
    }
    if (this.count === this.pts.length) {
      const grown = new Float64Array(Math.min(this.maxFrames, this.pts.length * 2));
      grown.set(this.pts);
      this.pts = grown;
    }
    this.pts[this.count++] = time;
    if (packet.key) this.keyPts.push(time);
  }

  /**
   * The timeline; undefined when the packets carry no timestamps. Where only decoding times exist, a
   * frame leaves a decoder that holds `reorderDelay` frames back stamped with the time of the packet
   * `reorderDelay` later, as ffmpeg stamps it (its best-effort timestamp), so the times are shifted by
   * that many pictures. Empty chunks are no packets to the decoder, so they do not count in that shift.
   */
  finish(reorderDelay = 0, fps = 0): FrameTimeline | undefined {
    if (this.count === 0) throw new UnsupportedMediaError(VIDEO_MESSAGES.noFrames);
    if (this.missingPts) return undefined;
    const pts = this.pts.subarray(0, this.count).sort();
    if (this.decodeTimesOnly && reorderDelay > 0) shiftBy(pts, reorderDelay, fps);
    const keyframes = this.keyPts.map((t) => lowerBound(pts, t)).sort((a, b) => a - b);
    return {
      count: pts.length,
      ptsOf: (i) => pts[i] ?? 0,
      keyframes: keyframes.filter((k, i) => k !== keyframes[i - 1]),
      exact: true,
    };
  }
}

/** Frame i takes the time of frame i + delay, the last ones continuing at the frame rate. */
function shiftBy(times: Float64Array, delay: number, fps: number): void {
  const n = times.length;
  const step = fps > 0 ? 1 / fps : n > 1 ? ((times[n - 1] ?? 0) - (times[0] ?? 0)) / (n - 1) : 0;
  const last = times[n - 1] ?? 0;
  for (let i = 0; i < n; i++) {
    const j = i + delay;
    times[i] = j < n ? (times[j] ?? 0) : last + (j - n + 1) * step;
  }
}

function lowerBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? 0) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
