import { PayloadTooLargeError, UnsupportedMediaError } from '../../shared/errors/errors.js';
import { num, type VideoProbe } from './video-probe.js';
import { VIDEO_MESSAGES } from './video-messages.js';

/**
 * The frames of a video in display order. It is a function of the index rather than an array, so a
 * timeline estimated from a header costs nothing however many frames the header claims.
 */
export interface FrameTimeline {
  count: number;
  /** Presentation time of frame `i` (0 ≤ i < count), in seconds, as the container stamps it. */
  ptsOf(i: number): number;
  /** Display indexes of the keyframes, ascending; empty when unknown. */
  keyframes: readonly number[];
  /** False when the times are start + n / fps rather than read from the packets. */
  exact: boolean;
}

export function tooManyFrames(maxFrames: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `The video has more than ${maxFrames} frames, above the limit (MAX_VIDEO_FRAMES); send a shorter video`,
  );
}

/** Frame times from the header alone: start + n / fps, for a count the header claims, within our limit. */
export function estimatedTimeline(probe: VideoProbe, maxFrames: number): FrameTimeline {
  if (probe.frameCount > maxFrames) throw tooManyFrames(maxFrames);
  const count = Math.max(1, probe.frameCount);
  const step = probe.fps > 0 ? 1 / probe.fps : 0;
  return { count, ptsOf: (i) => probe.startTime + i * step, keyframes: [], exact: false };
}

/** A line of ffprobe's compact packet list is short; a longer one is not ffprobe's. */
const MAX_LINE_CHARS = 256;

/**
 * Reads ffprobe's packet list (`pts_time=0.852019|dts_time=0.800000|flags=K__`; K keyframe, D discarded by an edit list)
 * as it streams, chunk by chunk, so the event loop never holds a list that grows with the file. It keeps
 * one number per frame, in typed arrays, and refuses the file past `maxFrames`.
 */
export class PacketListReader {
  private pts = new Float64Array(1024);
  private count = 0;
  private seen = 0;
  private keyPts: number[] = [];
  private missingPts = false;
  /** No packet had a presentation time, only decoding times (AVI). */
  private decodeTimesOnly = true;
  private tail = '';

  constructor(private readonly maxFrames: number) {}

  /** Adds a chunk of output; throws PayloadTooLargeError once the packets pass the limit. */
  push(chunk: string): void {
    const lines = (this.tail + chunk).split('\n');
    this.tail = lines.pop() ?? '';
    if (this.tail.length > MAX_LINE_CHARS) throw new UnsupportedMediaError(VIDEO_MESSAGES.unreadable);
    for (const line of lines) if (line) this.add(line);
  }

  /**
   * The timeline once the output has ended; undefined when the packets carry no timestamps. Where only
   * decoding times exist, a frame leaves a decoder that holds `reorderDelay` frames back stamped with the
   * time of the packet `reorderDelay` later, as ffmpeg stamps it, so the times are shifted by that much.
   */
  finish(reorderDelay = 0, fps = 0): FrameTimeline | undefined {
    if (this.tail) this.add(this.tail);
    this.tail = '';
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

  /** Packets listed so far, discarded ones included: what a header's frame count counts. */
  get packets(): number {
    return this.seen;
  }

  private add(line: string): void {
    let time: number | undefined;
    let decodeTime: number | undefined;
    let flags = '';
    for (const field of line.split('|')) {
      if (field.startsWith('pts_time=')) time = num(field.slice(9));
      else if (field.startsWith('dts_time=')) decodeTime = num(field.slice(9));
      else if (field.startsWith('flags=')) flags = field.slice(6);
    }
    if (this.seen++ >= this.maxFrames) throw tooManyFrames(this.maxFrames);
    if (flags.includes('D')) return;
    // AVI stores no presentation times, only decoding times; see finish() for how they become frame times.
    if (time === undefined && decodeTime !== undefined) {
      time = decodeTime;
      this.decodeTimesOnly &&= true;
    } else {
      this.decodeTimesOnly = false;
    }
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
    if (flags.includes('K')) this.keyPts.push(time);
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
