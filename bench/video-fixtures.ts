import { execFile } from 'node:child_process';
import { mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FfmpegBinaries } from '../worker/video/ffmpeg-binaries.js';

const run = promisify(execFile);

export interface BenchVideo {
  file: string;
  bytes: number;
  frames: number;
  seconds: number;
}

export interface BenchVideos {
  tenSeconds: BenchVideo;
  tenMinutes: BenchVideo;
  /** 640×360, 10 s, and the same segment repeated for an hour with its index at the end. */
  tenSecondsSd: BenchVideo;
  anHourSd: BenchVideo;
}

/**
 * H.264 videos made from the fixture clip, cached between runs: 1080p for 10 s and 10 min, 640×360 for
 * 10 s and an hour. Encoding ten minutes of 1080p takes
 * about 4.5 minutes on 2 cores, so only a 10-second loop of the clip is encoded (30 fps, a keyframe every 2 s
 * exactly, no scene-cut keyframes) and the ten minutes are that segment repeated by stream copy: the same
 * keyframe layout and frame size as a full encode, made in under a second.
 */
export async function ensureVideos(
  binaries: FfmpegBinaries,
  clip: string,
  cacheDir: string,
): Promise<BenchVideos> {
  await mkdir(cacheDir, { recursive: true });
  const tenSeconds = path.join(cacheDir, 'hamilton-1080p-10s.mp4');
  const tenMinutes = path.join(cacheDir, 'hamilton-1080p-10min.mp4');
  await encodeSegment(binaries, clip, tenSeconds, {
    scale: '1920:1080',
    quality: ['-preset', 'ultrafast'],
    faststart: true,
  });
  await repeatSegment(binaries, tenSeconds, tenMinutes, { loops: 59, seconds: 600, faststart: true });
  const tenSecondsSd = path.join(cacheDir, 'hamilton-360p-10s.mp4');
  const anHourSd = path.join(cacheDir, 'hamilton-360p-1h.mp4');
  await encodeSegment(binaries, clip, tenSecondsSd, {
    scale: '640:360',
    quality: ['-preset', 'veryfast', '-b:v', '450k'],
    faststart: false,
  });
  // No faststart: a stream copy leaves the index at the end, where a range reader must seek to find it.
  await repeatSegment(binaries, tenSecondsSd, anHourSd, { loops: 359, seconds: 3600, faststart: false });
  return {
    tenSeconds: await describe(binaries, tenSeconds),
    tenMinutes: await describe(binaries, tenMinutes),
    tenSecondsSd: await describe(binaries, tenSecondsSd),
    anHourSd: await describe(binaries, anHourSd),
  };
}

/** The index at the front of the MP4 (faststart), or left at the end where a stream copy puts it. */
const faststartArgs = (faststart: boolean) => (faststart ? ['-movflags', '+faststart'] : []);

/**
 * A 10-second loop of `clip` scaled to `scale`, in H.264 at 30 fps with a keyframe every 2 s exactly (no
 * scene-cut keyframes), at the `quality` given by x264 options; built once into `file`.
 */
function encodeSegment(
  binaries: FfmpegBinaries,
  clip: string,
  file: string,
  options: { scale: string; quality: string[]; faststart: boolean },
): Promise<void> {
  return cached(file, (tmp) =>
    ffmpeg(binaries, [
      ...['-stream_loop', '-1', '-i', clip, '-t', '10', '-an'],
      ...['-vf', `scale=${options.scale}`, '-r', '30', '-pix_fmt', 'yuv420p'],
      ...['-c:v', 'libx264', ...options.quality, '-g', '60', '-sc_threshold', '0'],
      ...faststartArgs(options.faststart),
      tmp,
    ]),
  );
}

/** `segment` played `loops` more times by stream copy and cut at `seconds`; built once into `file`. */
function repeatSegment(
  binaries: FfmpegBinaries,
  segment: string,
  file: string,
  options: { loops: number; seconds: number; faststart: boolean },
): Promise<void> {
  return cached(file, (tmp) =>
    ffmpeg(binaries, [
      ...['-stream_loop', String(options.loops), '-i', segment, '-t', String(options.seconds)],
      ...['-c', 'copy', ...faststartArgs(options.faststart), tmp],
    ]),
  );
}

/** Builds `file` unless it exists; the rename makes an interrupted build leave nothing behind. */
async function cached(file: string, build: (tmp: string) => Promise<void>): Promise<void> {
  if (await stat(file).catch(() => undefined)) return;
  const tmp = `${file}.tmp.mp4`;
  await build(tmp);
  await rename(tmp, file);
}

async function ffmpeg(binaries: FfmpegBinaries, args: string[]): Promise<void> {
  await run(binaries.ffmpeg, ['-hide_banner', '-v', 'error', '-nostdin', '-y', ...args]);
}

async function describe(binaries: FfmpegBinaries, file: string): Promise<BenchVideo> {
  const { stdout } = await run(binaries.ffprobe, [
    ...['-v', 'error', '-select_streams', 'v:0'],
    ...['-show_entries', 'stream=nb_frames,duration', '-of', 'json', file],
  ]);
  const stream = (JSON.parse(stdout) as { streams: { nb_frames: string; duration: string }[] }).streams[0];
  return {
    file,
    bytes: (await stat(file)).size,
    frames: Number(stream?.nb_frames),
    seconds: Number(stream?.duration),
  };
}
