import pLimit from 'p-limit';
import { UnsupportedMediaError } from '../../shared/errors/errors.js';
import type { VideoSource } from './ffmpeg-args.js';
import type { ExtractOptions, FfmpegRepository, RawFrame } from './ffmpeg.repository.js';
import { planSamples, prefersOnePass, type FrameSample } from './frame-sampler.js';
import { estimatedTimeline } from './frame-timeline.js';
import { VIDEO_MESSAGES } from './video-messages.js';
import type { VideoProbe } from './video-probe.js';

export interface FramePipelineOptions {
  /** ffmpeg processes running at once for one video. Default 2. */
  concurrency?: number;
  /**
   * Frames extracted, or being extracted, ahead of the one the consumer holds; it bounds memory to
   * lookahead + 1 raw frames. Default 2.
   */
  lookahead?: number;
  /** Longer side of the frames handed out, in pixels; smaller videos are not enlarged. Default 1280. */
  maxSide?: number;
  /**
   * What one ffmpeg launch costs, as the megapixels decoded in the same time; it decides between a seek
   * per sample and one decoding pass (see `prefersOnePass`): 16 MP is 8 frames of 1080p, 70 of 640×360
   * (figures: BENCHMARKS.md, "Measured behind the code"). Default 16.
   */
  launchCostMegapixels?: number;
  /** Most frames a video may have, by its packets or by its header's claim (MAX_VIDEO_FRAMES). */
  maxFrames: number;
  /** Called with the seconds from asking for each frame until it arrived (for metrics). */
  onFrame?: (seconds: number) => void;
}

export interface FramePlan {
  probe: VideoProbe;
  samples: FrameSample[];
  /** Decode once up to the last sample instead of seeking to each. */
  onePass: boolean;
  /** False when the container gave no frame timestamps and times are estimated from the frame rate. */
  exactTimes: boolean;
}

export interface VideoFrame {
  /** Position among the samples, from 0. */
  index: number;
  /** The source frame number as a string: the key of `faces_obj`. */
  key: string;
  /** Presentation time in seconds, 3 decimals: the contract's `frame_time`. */
  time: number;
  frame: RawFrame;
}

/** The part of FfmpegRepository the pipeline drives. */
export type FrameSource = Pick<FfmpegRepository, 'probe' | 'readTimeline' | 'extractFrame' | 'extractFrames'>;

/**
 * Turns a video file into its sampled frames, in order, while later frames are still being extracted,
 * so the consumer's inference overlaps with decoding. Usage:
 *
 *   const plan = await pipeline.plan(input, numFrames, signal);   // progress total: plan.samples.length
 *   for await (const { key, time, frame } of pipeline.frames(input, plan, signal)) { ... }
 *
 * Leaving the loop early (break, throw) or aborting the signal kills the ffmpeg children.
 */
export class FramePipeline {
  private readonly concurrency: number;
  private readonly lookahead: number;
  private readonly maxSide: number;
  private readonly launchCostMegapixels: number;
  private readonly maxFrames: number;
  private readonly onFrame?: (seconds: number) => void;

  constructor(
    private readonly source: FrameSource,
    options: FramePipelineOptions,
  ) {
    this.maxFrames = options.maxFrames;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.lookahead = Math.max(1, options.lookahead ?? 2);
    this.maxSide = options.maxSide ?? 1280;
    this.launchCostMegapixels = options.launchCostMegapixels ?? 16;
    this.onFrame = options.onFrame;
  }

  /**
   * Probes the video and picks its samples; throws UnsupportedMediaError for anything but a video, and
   * WholeFileNeeded for a range read whose index does not give its timing.
   */
  async plan(input: VideoSource, numFrames: number, signal?: AbortSignal): Promise<FramePlan> {
    const probe = await this.source.probe(input, signal);
    if (!probe.hasVideo) throw new UnsupportedMediaError(VIDEO_MESSAGES.noVideo);
    const timeline =
      (await this.source.readTimeline(input, probe, signal)) ?? estimatedTimeline(probe, this.maxFrames);
    const samples = planSamples(timeline, numFrames, probe.originTime);
    if (samples.length === 0) throw new UnsupportedMediaError(VIDEO_MESSAGES.noFrames);
    const frameMegapixels = Math.max(1e-3, (probe.width * probe.height) / 1e6);
    const onePass = prefersOnePass(
      samples.map((s) => s.frameNumber),
      timeline.keyframes,
      this.launchCostMegapixels / frameMegapixels,
    );
    return { probe, samples, onePass, exactTimes: timeline.exact };
  }

  /** `maxSide` overrides the pipeline's for one video (full resolution when faces are to be cropped). */
  async *frames(
    input: VideoSource,
    plan: FramePlan,
    signal?: AbortSignal,
    maxSide = this.maxSide,
  ): AsyncGenerator<VideoFrame> {
    const stop = new AbortController();
    const stopped = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    const { start, finish } = this.extraction(input, plan, { probe: plan.probe, maxSide, signal: stopped });
    const upcoming = plan.samples.values();
    const ahead: { sample: FrameSample; frame: Promise<RawFrame> }[] = [];
    // Keeps the next frame plus `lookahead` more in progress; the consumer's frame is not counted.
    const fill = () => {
      for (let next = upcoming.next(); !next.done; next = upcoming.next()) {
        const asked = performance.now();
        const frame = start(next.value).then((f) => {
          this.onFrame?.((performance.now() - asked) / 1000);
          return f;
        });
        // Awaited in turn below; until then a failure must not count as unhandled.
        frame.catch(() => {});
        ahead.push({ sample: next.value, frame });
        if (ahead.length > this.lookahead) return;
      }
    };
    try {
      fill();
      for (let head = ahead.shift(); head; fill(), head = ahead.shift()) {
        const { sample } = head;
        yield { index: sample.index, key: sample.key, time: sample.time, frame: await head.frame };
      }
    } finally {
      stop.abort();
      await Promise.allSettled(ahead.map((a) => a.frame));
      await finish().catch(() => {});
    }
  }

  /**
   * How the plan's frames are asked for, one sample at a time: the next frame of one decoding pass (which
   * `finish` ends), or a seek of its own, `concurrency` of them at once.
   */
  private extraction(
    input: VideoSource,
    plan: FramePlan,
    options: ExtractOptions,
  ): { start: (sample: FrameSample) => Promise<RawFrame>; finish: () => Promise<void> } {
    if (!plan.onePass) {
      const limit = pLimit(this.concurrency);
      return {
        start: (sample) => limit(() => this.source.extractFrame(input, sample.pts, options)),
        finish: async () => {},
      };
    }
    const pass = this.source.extractFrames(
      input,
      plan.samples.map((s) => s.frameNumber),
      options,
    );
    return {
      // An async generator queues next() calls, so asking ahead keeps ffmpeg decoding while we wait.
      start: async () => {
        const next = await pass.next();
        if (next.done) throw new Error('the decoding pass ended before its last frame');
        return next.value;
      },
      finish: async () => {
        await pass.return(undefined);
      },
    };
  }
}
