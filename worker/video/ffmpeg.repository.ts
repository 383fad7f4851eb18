import { UnsupportedMediaError } from '../../shared/errors/errors.js';
import type { FfmpegBinaries } from './ffmpeg-binaries.js';
import {
  DEFAULT_INPUT_FORMATS,
  framesPassArgs,
  inputArgs,
  inputUrl,
  outputSize,
  seekFrameArgs,
  type VideoSource,
} from './ffmpeg-args.js';
import type { FrameTimeline } from './frame-timeline.js';
import { readFrameTimeline } from './timeline-reader.js';
import { ToolProcess } from './tool-process.js';
import { parseProbe, type ProbeJson, type VideoProbe } from './video-probe.js';
import { tooManyPixels, unsupported, VIDEO_MESSAGES } from './video-messages.js';

interface VideoLimits {
  /** Largest frame, in pixels, coded or displayed; checked on the header before anything is decoded. */
  maxPixels: number;
  /** Most frames a video may have; the packet list stops there. */
  maxFrames: number;
  /**
   * Most bytes of ffprobe's header report read; a file with endless streams or tags is refused there.
   * @defaultValue 1048576
   */
  maxProbeBytes?: number;
  /**
   * Largest single allocation an ffmpeg child may make (its `max_alloc`); bounds what a lying header can
   * make a demuxer allocate.
   * @defaultValue 268435456
   */
  maxAllocBytes?: number;
}

export type { VideoProbe } from './video-probe.js';
export { WholeFileNeeded } from './timeline-reader.js';

export interface FfmpegRepositoryOptions {
  binaries: FfmpegBinaries;
  limits: VideoLimits;
  /**
   * A child that keeps us waiting this long for its next output is killed as hung. Time the consumer
   * spends away from reading is not counted.
   * @defaultValue 30000
   */
  idleTimeoutMs?: number;
  /** Demuxers an input may use. @defaultValue DEFAULT_INPUT_FORMATS */
  formats?: readonly string[];
}

/** 8-bit RGB, row-major, no padding, in displayed orientation. */
export interface RawFrame {
  data: Buffer;
  width: number;
  height: number;
  channels: 3;
}

export interface ExtractOptions {
  probe: VideoProbe;
  /** The frame is shrunk so that its longer side is at most this; never enlarged. */
  maxSide: number;
  signal?: AbortSignal;
}

/**
 * The only code that runs ffmpeg and ffprobe. Inputs are a local file or the worker's range proxy, frames
 * come back as raw RGB on stdout (no temporary files), and every child is killed when it hangs or the
 * caller aborts. What a child may allocate, and what we read of its output, is bounded by our limits,
 * never by what the file claims. Messages never carry paths or ffmpeg's stderr; that goes into `cause`.
 */
export class FfmpegRepository {
  private readonly idleTimeoutMs: number;
  private readonly maxProbeBytes: number;
  private readonly policy;

  constructor(private readonly options: FfmpegRepositoryOptions) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.maxProbeBytes = options.limits.maxProbeBytes ?? 1024 * 1024;
    this.policy = {
      formats: options.formats ?? DEFAULT_INPUT_FORMATS,
      maxPixels: options.limits.maxPixels,
      maxAllocBytes: options.limits.maxAllocBytes ?? 256 * 1024 * 1024,
    };
  }

  /**
   * Reads the container's headers only, so it costs the same for any length of video. A frame size above
   * the limit is refused here, before any frame is decoded.
   */
  async probe(input: VideoSource, signal?: AbortSignal): Promise<VideoProbe> {
    const child = this.launch(
      'ffprobe',
      [...inputArgs(input, this.policy), '-show_streams', '-show_format', '-of', 'json', inputUrl(input)],
      signal,
    );
    const parts: Buffer[] = [];
    let bytes = 0;
    try {
      for await (const chunk of child.chunks()) {
        bytes += chunk.length;
        if (bytes > this.maxProbeBytes) {
          child.abandon();
          throw new UnsupportedMediaError(VIDEO_MESSAGES.headersTooLarge(this.maxProbeBytes));
        }
        parts.push(chunk);
      }
      await child.settle(VIDEO_MESSAGES.unreadable);
    } finally {
      await child.close();
    }
    let probe: VideoProbe;
    try {
      probe = parseProbe(JSON.parse(Buffer.concat(parts).toString('utf8')) as ProbeJson);
    } catch (err) {
      throw unsupported(VIDEO_MESSAGES.unreadable, err);
    }
    const pixels = Math.max(probe.codedPixels, probe.width * probe.height);
    if (pixels > this.policy.maxPixels) throw tooManyPixels(probe.width, probe.height, this.policy.maxPixels);
    return probe;
  }

  /**
   * The pictures of the video, with their times and keyframes, from the container's own index where a
   * range read has it (an AVI's idx1, an MP4's boxes), else from ffprobe's packet list, which reads the
   * whole file at disk speed. A file and a range read of the same video get the same timeline; a range
   * read whose timing only the whole file holds throws WholeFileNeeded instead. Undefined when the
   * packets carry no timestamps.
   */
  readTimeline(
    input: VideoSource,
    probe: VideoProbe,
    signal?: AbortSignal,
  ): Promise<FrameTimeline | undefined> {
    return readFrameTimeline(input, probe, {
      ffprobe: (args) => this.launch('ffprobe', args, signal),
      policy: this.policy,
      maxFrames: this.options.limits.maxFrames,
      idleTimeoutMs: this.idleTimeoutMs,
      signal,
    });
  }

  /**
   * The frame presented at `timeS` (a time from the timeline, matched within half a millisecond), or
   * else the first one after it. Input seeking jumps to the keyframe at or before it and decodes
   * forward, so the cost is bounded by the GOP, not by the position in the video.
   */
  async extractFrame(input: VideoSource, timeS: number, options: ExtractOptions): Promise<RawFrame> {
    const { probe } = options;
    if (!probe.hasVideo) throw new UnsupportedMediaError(VIDEO_MESSAGES.noVideo);
    const size = outputSize(probe, options.maxSide);
    const args = seekFrameArgs(input, this.policy, probe, timeS, size);
    const message = VIDEO_MESSAGES.damagedAt(timeS - probe.originTime);
    let frame: RawFrame | undefined;
    for await (const decoded of this.frames(args, size, 1, options.signal, message)) frame = decoded;
    // A seek past the last frame, or into a cut-off tail, ends cleanly with no output at all.
    if (!frame) throw unsupported(message, new Error(`ffmpeg decoded no frame at or after ${timeS} s`));
    return frame;
  }

  /**
   * The frames with these display-order numbers (ascending), in one decoding pass: cheaper than one
   * seek per frame when they are dense relative to keyframes. Frames are read as the consumer asks, so
   * ffmpeg waits on the pipe instead of filling memory.
   */
  async *extractFrames(
    input: VideoSource,
    frameNumbers: readonly number[],
    options: ExtractOptions,
  ): AsyncGenerator<RawFrame> {
    const { probe } = options;
    if (!probe.hasVideo) throw new UnsupportedMediaError(VIDEO_MESSAGES.noVideo);
    if (frameNumbers.length === 0) return;
    const size = outputSize(probe, options.maxSide);
    const args = framesPassArgs(input, this.policy, probe, frameNumbers, size);
    let produced = 0;
    for await (const frame of this.frames(
      args,
      size,
      frameNumbers.length,
      options.signal,
      VIDEO_MESSAGES.damaged,
    )) {
      produced += 1;
      yield frame;
    }
    if (produced < frameNumbers.length) {
      throw unsupported(
        VIDEO_MESSAGES.damaged,
        new Error(`ffmpeg decoded ${produced} of frames ${frameNumbers.join(',')}`),
      );
    }
  }

  /** Cuts stdout into frames of exactly `size`; ffmpeg scaled them, so none is larger than asked. */
  private async *frames(
    args: string[],
    size: { width: number; height: number },
    count: number,
    signal: AbortSignal | undefined,
    damagedMessage: string,
  ): AsyncGenerator<RawFrame> {
    const child = this.launch('ffmpeg', args, signal);
    const bytes = size.width * size.height * 3;
    let frame = Buffer.allocUnsafe(bytes);
    let filled = 0;
    let produced = 0;
    try {
      for await (const chunk of child.chunks()) {
        let offset = 0;
        while (offset < chunk.length && produced < count) {
          const copied = chunk.copy(frame, filled, offset);
          filled += copied;
          offset += copied;
          if (filled === bytes) {
            produced += 1;
            yield { data: frame, width: size.width, height: size.height, channels: 3 };
            frame = Buffer.allocUnsafe(bytes);
            filled = 0;
          }
        }
      }
      await child.settle(damagedMessage);
    } finally {
      await child.close();
    }
  }

  private launch(tool: keyof FfmpegBinaries, args: string[], signal: AbortSignal | undefined): ToolProcess {
    return new ToolProcess(tool, this.options.binaries[tool], args, {
      idleTimeoutMs: this.idleTimeoutMs,
      signal,
    });
  }
}
