import { spawn } from 'node:child_process';
import { UnsupportedMediaError } from '../../shared/errors/errors.js';
import type { FfmpegBinaries } from './ffmpeg-binaries.js';
import { MediaTimeoutError } from './media-timeout.error.js';

/**
 * Demuxers an input may use. Uploads are untrusted: playlist-like demuxers (HLS, concat, image
 * sequences) would make ffmpeg open other files. Audio containers are listed so that a song is told
 * apart from a broken video.
 */
export const DEFAULT_INPUT_FORMATS: readonly string[] = [
  'mov',
  'mp4',
  'matroska',
  'webm',
  'avi',
  'flv',
  'mpegts',
  'mpeg',
  'ogg',
  'asf',
  'mp3',
  'wav',
  'aac',
  'flac',
];

export interface FfmpegRepositoryOptions {
  binaries: FfmpegBinaries;
  /**
   * A child that keeps us waiting this long for its next output is killed as hung. Time the consumer
   * spends away from reading is not counted. Default 30 000 ms.
   */
  idleTimeoutMs?: number;
  /** Demuxers an input may use. Default {@link DEFAULT_INPUT_FORMATS}. */
  formats?: readonly string[];
}

/** Clockwise degrees the coded picture is turned for display. */
export type Rotation = 0 | 90 | 180 | 270;

export interface VideoProbe {
  hasVideo: boolean;
  /** The container's index of the video stream that is sampled; -1 without one. */
  streamIndex: number;
  /** Displayed size: rotation and pixel aspect ratio applied. */
  width: number;
  height: number;
  rotation: Rotation;
  durationS: number;
  fps: number;
  frameCount: number;
  /** The container does not state the frame count; it is duration × fps. */
  frameCountEstimated: boolean;
  /** Presentation time of the first frame, in seconds. */
  startTime: number;
}

export interface FrameTimeline {
  /** Presentation time of every frame in display order, in seconds. */
  pts: number[];
  /** Indexes into `pts` of the keyframes; empty when unknown. */
  keyframes: number[];
  /** False when the packets carry no timestamps and the times are start + n / fps. */
  exact: boolean;
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

export const VIDEO_MESSAGES = {
  noVideo: 'The media has no video stream; send an image or a video with a video track',
  unreadable:
    'The media could not be read as a video; send an image or a video in a common format such as MP4, MOV, WebM or MKV',
  truncated: 'The video is truncated or incomplete; send the whole file',
  noFrames: 'The video has no frames; send a video with at least one frame',
  damaged: 'The video could not be decoded; it may be damaged or truncated',
  damagedAt: (timeS: number) =>
    `The video could not be decoded at ${timeS.toFixed(3)} s; it may be damaged or truncated`,
} as const;

// "error reading header" is the mov demuxer's word for an index (moov) box that ends early or overruns.
const TRUNCATION = /moov atom not found|error reading header|partial file|end of file|truncat/i;
const MISDETECTION = /misdetection possible/i;
const STDERR_TAIL_CHARS = 4000;
/** Below half the gap between frames up to 1000 fps, above the rounding of printed times (1 µs). */
const PTS_TOLERANCE_S = 0.0005;

/**
 * The only code that runs ffmpeg and ffprobe. Inputs are opened through the `file:` protocol alone,
 * frames come back as raw RGB on stdout (no temporary files), and every child is killed when it hangs or
 * the caller aborts. Messages never carry paths or ffmpeg's stderr; that goes into `cause` for the logs.
 */
export class FfmpegRepository {
  private readonly idleTimeoutMs: number;
  private readonly inputArgs: string[];

  constructor(private readonly options: FfmpegRepositoryOptions) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.inputArgs = [
      // Warnings included: ffprobe's "misdetection possible" tells garbage from a damaged file.
      '-v',
      'warning',
      '-protocol_whitelist',
      'file',
      '-format_whitelist',
      (options.formats ?? DEFAULT_INPUT_FORMATS).join(','),
    ];
  }

  /** Reads the container's headers only, so it costs the same for any length of video. */
  async probe(file: string, signal?: AbortSignal): Promise<VideoProbe> {
    const out = await this.collect(
      'ffprobe',
      [...this.inputArgs, '-show_streams', '-show_format', '-of', 'json', fileUrl(file)],
      signal,
    );
    try {
      return parseProbe(JSON.parse(out.toString('utf8')) as ProbeJson);
    } catch (err) {
      throw unsupported(VIDEO_MESSAGES.unreadable, err);
    }
  }

  /**
   * Lists the video packets without decoding them: exact frame count, frame times and keyframes. It
   * reads the whole file, but at disk speed (about 0.3 s for 1.2 GB from the page cache).
   */
  async readTimeline(file: string, probe: VideoProbe, signal?: AbortSignal): Promise<FrameTimeline> {
    if (!probe.hasVideo) throw new UnsupportedMediaError(VIDEO_MESSAGES.noVideo);
    const out = await this.collect(
      'ffprobe',
      [
        ...this.inputArgs,
        '-select_streams',
        String(probe.streamIndex),
        '-show_entries',
        'packet=pts_time,flags',
        '-of',
        'compact=p=0',
        fileUrl(file),
      ],
      signal,
    );
    const packets = parsePackets(out.toString('utf8'));
    // The header counts every packet, discarded ones included; fewer on disk means the file was cut.
    if (!probe.frameCountEstimated && packets.length < probe.frameCount) {
      throw new UnsupportedMediaError(VIDEO_MESSAGES.truncated);
    }
    if (packets.length === 0 || packets.some((p) => p.pts === undefined)) return estimatedTimeline(probe);
    const shown = packets.filter((p) => !p.discard).sort((a, b) => (a.pts ?? 0) - (b.pts ?? 0));
    return {
      pts: shown.map((p) => p.pts ?? 0),
      keyframes: shown.flatMap((p, i) => (p.key ? [i] : [])),
      exact: true,
    };
  }

  /**
   * The frame presented at `timeS` (a time from the timeline, matched within half a millisecond), or
   * else the first one after it. Input seeking jumps to the keyframe at or before it and decodes
   * forward, so the cost is bounded by the GOP, not by the position in the video.
   */
  async extractFrame(file: string, timeS: number, options: ExtractOptions): Promise<RawFrame> {
    const { probe } = options;
    if (!probe.hasVideo) throw new UnsupportedMediaError(VIDEO_MESSAGES.noVideo);
    const size = outputSize(probe, options.maxSide);
    // Seeking just past the frame's time lands on its own keyframe when the frame is one; the select
    // filter then keeps the frame itself, with -copyts leaving timestamps as the timeline has them.
    // (ffmpeg's accurate seek would need one time to do both, and printed times are rounded.)
    const args = [
      ...this.inputArgs,
      '-nostdin',
      // The rotation is applied from the probe, so frames and probed size agree whichever ffmpeg runs.
      '-noautorotate',
      // Frame threading first fills a pipeline of frames: 4× slower for a frame next to a keyframe, no
      // faster further on. Parallelism comes from running several extractions instead.
      '-threads',
      '1',
      // -ss is then a presentation time, not an offset from the container's start.
      '-seek_timestamp',
      '1',
      '-noaccurate_seek',
      '-ss',
      (timeS + PTS_TOLERANCE_S).toFixed(6),
      '-copyts',
      '-i',
      fileUrl(file),
      '-map',
      `0:${probe.streamIndex}`,
      '-vf',
      `select=gte(t\\,${(timeS - PTS_TOLERANCE_S).toFixed(6)}),${geometryFilters(probe, size)}`,
      '-vsync',
      'passthrough',
      '-frames:v',
      '1',
      ...RAW_RGB_OUTPUT,
    ];
    const message = VIDEO_MESSAGES.damagedAt(timeS);
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
    file: string,
    frameNumbers: readonly number[],
    options: ExtractOptions,
  ): AsyncGenerator<RawFrame> {
    const { probe } = options;
    if (!probe.hasVideo) throw new UnsupportedMediaError(VIDEO_MESSAGES.noVideo);
    if (frameNumbers.length === 0) return;
    const size = outputSize(probe, options.maxSide);
    const select = `select=${frameNumbers.map((n) => `eq(n\\,${n})`).join('+')}`;
    const args = [
      ...this.inputArgs,
      '-nostdin',
      '-noautorotate',
      '-i',
      fileUrl(file),
      '-map',
      `0:${probe.streamIndex}`,
      '-vf',
      `${select},${geometryFilters(probe, size)}`,
      // The raw muxer would otherwise duplicate or drop frames to keep a constant rate.
      '-vsync',
      'passthrough',
      '-frames:v',
      String(frameNumbers.length),
      ...RAW_RGB_OUTPUT,
    ];
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

  private async collect(tool: Tool, args: string[], signal: AbortSignal | undefined): Promise<Buffer> {
    const child = this.launch(tool, args, signal);
    try {
      const parts: Buffer[] = [];
      for await (const chunk of child.chunks()) parts.push(chunk);
      await child.settle(VIDEO_MESSAGES.unreadable);
      return Buffer.concat(parts);
    } finally {
      await child.close();
    }
  }

  private launch(tool: Tool, args: string[], signal: AbortSignal | undefined): Child {
    signal?.throwIfAborted();
    const proc = spawn(this.options.binaries[tool], args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (text: string) => {
      stderr = (stderr + text).slice(-STDERR_TAIL_CHARS);
    });

    let stoppedFor: 'timeout' | 'abort' | 'close' | undefined;
    let timer: NodeJS.Timeout | undefined;
    const stop = (why: 'timeout' | 'abort' | 'close') => {
      stoppedFor ??= why;
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      // Unread output would otherwise hold the pipe, and with it the child's 'close', open.
      proc.stdout.destroy();
    };
    const onAbort = () => stop('abort');
    signal?.addEventListener('abort', onAbort, { once: true });
    const exited = new Promise<{ code: number | null; killedBy: NodeJS.Signals | null; spawnError?: Error }>(
      (resolve) => {
        proc.once('error', (spawnError) => resolve({ code: null, killedBy: null, spawnError }));
        proc.once('close', (code, killedBy) => resolve({ code, killedBy }));
      },
    ).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
    const idleTimeoutMs = this.idleTimeoutMs;

    return {
      async *chunks() {
        const arm = () => {
          timer = setTimeout(() => stop('timeout'), idleTimeoutMs);
        };
        arm();
        try {
          for await (const chunk of proc.stdout) {
            clearTimeout(timer);
            yield chunk as Buffer;
            arm();
          }
        } catch (err) {
          // A stream destroyed by stop() is explained by settle(); anything else is a real fault.
          if (stoppedFor === undefined) throw err;
        } finally {
          clearTimeout(timer);
        }
      },
      async settle(failureMessage) {
        const { code, killedBy, spawnError } = await exited;
        if (stoppedFor === 'abort' && signal) throw signal.reason;
        if (stoppedFor === 'timeout') {
          throw new MediaTimeoutError({
            cause: new Error(`${tool} gave no output for ${idleTimeoutMs} ms; stderr: ${stderr}`),
          });
        }
        if (spawnError) throw new Error(`${tool} could not be started`, { cause: spawnError });
        if (code === 0) return;
        const detail = new Error(`${tool} exited with ${code ?? killedBy}; stderr: ${stderr}`);
        if (code === null) throw detail;
        const truncated = TRUNCATION.test(stderr) && !MISDETECTION.test(stderr);
        throw unsupported(truncated ? VIDEO_MESSAGES.truncated : failureMessage, detail);
      },
      async close() {
        stop('close');
        await exited;
      },
    };
  }
}

type Tool = keyof FfmpegBinaries;

interface Child {
  /** stdout; the idle timeout runs only while the reader waits for the next chunk. */
  chunks(): AsyncGenerator<Buffer>;
  /** Waits for the exit and throws what explains a failure. */
  settle(failureMessage: string): Promise<void>;
  /** Kills the child if it still runs, drops unread output and waits until it is gone. */
  close(): Promise<void>;
}

const RAW_RGB_OUTPUT = ['-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'];

function fileUrl(file: string): string {
  // Without the prefix a name such as "concat:…" or "http:…" would pick another protocol.
  return `file:${file}`;
}

function unsupported(message: string, cause: unknown): UnsupportedMediaError {
  const err = new UnsupportedMediaError(message);
  err.cause = cause;
  return err;
}

function outputSize(probe: VideoProbe, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(probe.width, probe.height));
  return {
    width: Math.max(1, Math.round(probe.width * scale)),
    height: Math.max(1, Math.round(probe.height * scale)),
  };
}

/** Scales to the displayed size (square pixels) in coded orientation, then turns the picture upright. */
function geometryFilters(probe: VideoProbe, size: { width: number; height: number }): string {
  const sideways = probe.rotation === 90 || probe.rotation === 270;
  const scale = sideways ? `scale=${size.height}:${size.width}` : `scale=${size.width}:${size.height}`;
  const turn = { 0: [], 90: ['transpose=clock'], 180: ['hflip', 'vflip'], 270: ['transpose=cclock'] }[
    probe.rotation
  ];
  return [scale, ...turn].join(',');
}

interface ProbeStream {
  index?: number;
  codec_type?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  start_time?: string;
  disposition?: { attached_pic?: number };
  tags?: { rotate?: string };
  side_data_list?: { rotation?: number }[];
}

interface ProbeJson {
  streams?: ProbeStream[];
  format?: { duration?: string; start_time?: string };
}

function parseProbe(json: ProbeJson): VideoProbe {
  // Cover art in a music file is a one-picture "video" stream; it is not a video.
  const stream = json.streams?.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  if (!stream || stream.index === undefined || !stream.width || !stream.height) {
    return {
      hasVideo: false,
      streamIndex: -1,
      width: 0,
      height: 0,
      rotation: 0,
      durationS: 0,
      fps: 0,
      frameCount: 0,
      frameCountEstimated: true,
      startTime: 0,
    };
  }
  const rotation = parseRotation(stream);
  const sar = ratio(stream.sample_aspect_ratio) ?? 1;
  const codedWidth = Math.max(1, Math.round(stream.width * sar));
  const sideways = rotation === 90 || rotation === 270;
  const durationS = num(stream.duration) ?? num(json.format?.duration) ?? 0;
  const fps = ratio(stream.avg_frame_rate) ?? ratio(stream.r_frame_rate) ?? 0;
  const stated = num(stream.nb_frames);
  const frameCount = stated && stated > 0 ? stated : Math.round(durationS * fps);
  return {
    hasVideo: true,
    streamIndex: stream.index,
    width: sideways ? stream.height : codedWidth,
    height: sideways ? codedWidth : stream.height,
    rotation,
    durationS,
    fps,
    frameCount,
    frameCountEstimated: !(stated && stated > 0),
    startTime: num(stream.start_time) ?? num(json.format?.start_time) ?? 0,
  };
}

/**
 * ffprobe since 5.x reports the display matrix's counter-clockwise angle; older ones a clockwise
 * `rotate` tag. Both become clockwise quarter turns.
 */
function parseRotation(stream: ProbeStream): Rotation {
  const counterClockwise = stream.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  const clockwise = counterClockwise !== undefined ? -counterClockwise : (num(stream.tags?.rotate) ?? 0);
  const quarter = (((Math.round(clockwise / 90) % 4) + 4) % 4) as 0 | 1 | 2 | 3;
  return ([0, 90, 180, 270] as const)[quarter];
}

interface Packet {
  pts: number | undefined;
  key: boolean;
  discard: boolean;
}

/** Lines like `pts_time=0.852019|flags=K__` (K keyframe, D discarded by an edit list, C corrupt). */
function parsePackets(text: string): Packet[] {
  const packets: Packet[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const fields = new Map(line.split('|').map((kv) => kv.split('=', 2) as [string, string | undefined]));
    const flags = fields.get('flags') ?? '';
    packets.push({
      pts: num(fields.get('pts_time')),
      key: flags.includes('K'),
      discard: flags.includes('D'),
    });
  }
  return packets;
}

function estimatedTimeline(probe: VideoProbe): FrameTimeline {
  const count = Math.max(1, probe.frameCount);
  const step = probe.fps > 0 ? 1 / probe.fps : 0;
  return {
    pts: Array.from({ length: count }, (_, i) => probe.startTime + i * step),
    keyframes: [],
    exact: false,
  };
}

function num(value: string | number | undefined): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return n !== undefined && Number.isFinite(n) && value !== '' ? n : undefined;
}

function ratio(value: string | undefined): number | undefined {
  const [a, b] = (value ?? '').split(/[/:]/).map(Number);
  return a !== undefined && b !== undefined && a > 0 && b > 0 ? a / b : undefined;
}
