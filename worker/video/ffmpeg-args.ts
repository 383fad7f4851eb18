import type { Rotation, VideoProbe } from './video-probe.js';

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

/**
 * Where ffmpeg reads a video: a local file, or the worker's loopback range proxy, which forwards every
 * read through the URL guard. ffmpeg itself never resolves or connects to a user's host.
 */
export type VideoInput = { kind: 'file'; path: string } | { kind: 'proxy'; url: string };

/** A bare string is a local file's path. */
export type VideoSource = VideoInput | string;

export function toInput(source: VideoSource): VideoInput {
  return typeof source === 'string' ? { kind: 'file', path: source } : source;
}

export interface InputPolicy {
  formats: readonly string[];
  /** Largest picture a decoder may allocate, in pixels (ffmpeg's `max_pixels`). */
  maxPixels: number;
  /** Largest single allocation ffmpeg may make, in bytes (ffmpeg's `max_alloc`). */
  maxAllocBytes: number;
}

/** Options before `-i` that confine what ffmpeg or ffprobe may open and allocate for this input. */
export function inputArgs(source: VideoSource, policy: InputPolicy): string[] {
  const input = toInput(source);
  return [
    // Warnings included: ffprobe's "misdetection possible" tells garbage from a damaged file.
    '-v',
    'warning',
    '-max_alloc',
    String(policy.maxAllocBytes),
    '-max_pixels',
    String(policy.maxPixels),
    '-protocol_whitelist',
    input.kind === 'file' ? 'file' : 'http,tcp',
    '-format_whitelist',
    policy.formats.join(','),
    // The proxy answers each read with at most one piece; ffmpeg asks again for the rest.
    ...(input.kind === 'proxy' ? ['-seekable', '1', '-reconnect', '1', '-reconnect_delay_max', '0'] : []),
  ];
}

export function inputUrl(source: VideoSource): string {
  const input = toInput(source);
  // Without the prefix a name such as "concat:…" or "http:…" would pick another protocol.
  return input.kind === 'file' ? `file:${input.path}` : input.url;
}

const RAW_RGB_OUTPUT = ['-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'];

export function outputSize(probe: VideoProbe, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(probe.width, probe.height));
  return {
    width: Math.max(1, Math.round(probe.width * scale)),
    height: Math.max(1, Math.round(probe.height * scale)),
  };
}

const TURNS: Record<Rotation, string[]> = {
  0: [],
  90: ['transpose=clock'],
  180: ['hflip', 'vflip'],
  270: ['transpose=cclock'],
};

/** Scales to the displayed size (square pixels) in coded orientation, then turns the picture upright. */
function geometryFilters(probe: VideoProbe, size: { width: number; height: number }): string {
  const sideways = probe.rotation === 90 || probe.rotation === 270;
  const scale = sideways ? `scale=${size.height}:${size.width}` : `scale=${size.width}:${size.height}`;
  return [scale, ...TURNS[probe.rotation]].join(',');
}

/** Below half the gap between frames up to 1000 fps, above the rounding of printed times (1 µs). */
const PTS_TOLERANCE_S = 0.0005;

/**
 * Frames this close to the container's start are decoded from the start rather than sought. For streams
 * with B-frames ffmpeg seeks 3/23 s before the time asked; before the start, an AVI's seek lands on the
 * next keyframe instead, seconds later. Decoding half a second costs less than a launch.
 */
const SEEK_FROM_S = 0.5;

type Size = { width: number; height: number };

/** One frame, the one presented at `timeS` or the first after it, by input seeking. */
export function seekFrameArgs(
  input: VideoSource,
  policy: InputPolicy,
  probe: VideoProbe,
  timeS: number,
  size: Size,
): string[] {
  // Seeking just past the frame's time lands on its own keyframe when the frame is one; the select
  // filter then keeps the frame itself, with -copyts leaving timestamps as the timeline has them.
  // (ffmpeg's accurate seek would need one time to do both, and printed times are rounded.)
  return [
    ...inputArgs(input, policy),
    '-nostdin',
    // The rotation is applied from the probe, so frames and probed size agree whichever ffmpeg runs.
    '-noautorotate',
    // Frame threading first fills a pipeline of frames: slower for a frame next to a keyframe, no faster
    // further on (figures: BENCHMARKS.md, "Measured behind the code"). Parallelism comes from running several extractions instead.
    '-threads',
    '1',
    ...(timeS - probe.originTime > SEEK_FROM_S
      ? // -ss is then a presentation time, not an offset from the container's start.
        ['-seek_timestamp', '1', '-noaccurate_seek', '-ss', (timeS + PTS_TOLERANCE_S).toFixed(6)]
      : []),
    '-copyts',
    '-i',
    inputUrl(input),
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
}

/** The frames with these display-order numbers, in one decoding pass. */
export function framesPassArgs(
  input: VideoSource,
  policy: InputPolicy,
  probe: VideoProbe,
  frameNumbers: readonly number[],
  size: Size,
): string[] {
  const select = `select=${frameNumbers.map((n) => `eq(n\\,${n})`).join('+')}`;
  return [
    ...inputArgs(input, policy),
    '-nostdin',
    '-noautorotate',
    '-i',
    inputUrl(input),
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
}
