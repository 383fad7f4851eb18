import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MediaFetcher } from '../worker/fetch/media-fetcher.js';
import { FfmpegRepository } from '../worker/video/ffmpeg.repository.js';
import type { FfmpegBinaries } from '../worker/video/ffmpeg-binaries.js';
import type { DetectAnswer } from './http-load.js';
import { median } from './stats.js';

/** The service's default limits (MAX_VIDEO_PIXELS, MAX_VIDEO_FRAMES). */
const VIDEO_LIMITS = { maxPixels: 4096 * 4096, maxFrames: 300_000 };
import type { BenchVideo } from './video-fixtures.js';

export interface VideoRequestResult {
  numFrames: number;
  /** Median of the runs: wall time of the synchronous request, download of the video included. */
  seconds: number;
  runs: number[];
}

/** POSTs a video URL and waits for the synchronous answer; returns its wall time in seconds. */
export async function timeVideoRequest(
  serviceUrl: string,
  videoUrl: string,
  numFrames: number,
): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${serviceUrl}/detect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: videoUrl, num_frames: numFrames }),
  });
  const answer = (await res.json()) as DetectAnswer;
  const seconds = (performance.now() - started) / 1000;
  const frames = Object.keys(answer.faces_obj ?? {}).length;
  if (res.status !== 200 || answer.error_code !== 0 || frames !== numFrames)
    throw new Error(`video request answered ${res.status} with ${frames} frames: ${answer.error_msg}`);
  return seconds;
}

/**
 * num_frames=5 on a short and a long video in turns, three rounds after a warm-up of the short one, with
 * the bytes the origin sent for each long request (`bytesSent` counts them).
 */
export async function shortAndLong(
  serviceUrl: string,
  shortUrl: string,
  longUrl: string,
  bytesSent: () => number,
): Promise<{ shortRuns: number[]; longRuns: number[]; longBytes: number[] }> {
  await timeVideoRequest(serviceUrl, shortUrl, 5);
  const runs = { shortRuns: [] as number[], longRuns: [] as number[], longBytes: [] as number[] };
  for (let i = 0; i < 3; i++) {
    runs.shortRuns.push(await timeVideoRequest(serviceUrl, shortUrl, 5));
    const before = bytesSent();
    runs.longRuns.push(await timeVideoRequest(serviceUrl, longUrl, 5));
    runs.longBytes.push(bytesSent() - before);
  }
  return runs;
}

export function videoResult(numFrames: number, runs: number[]): VideoRequestResult {
  return { numFrames, seconds: median(runs), runs };
}

export interface NaiveResult {
  /** Every n-th frame kept. */
  every: number;
  frames: number;
  seconds: number;
}

/**
 * What a simple implementation would do: decode the whole video in one pass and keep every n-th frame,
 * as RGB on a pipe like the service's extraction. Detection is not included, so the comparison flatters
 * the baseline.
 */
export async function naiveSampling(
  binaries: FfmpegBinaries,
  video: BenchVideo,
  numFrames: number,
): Promise<NaiveResult> {
  const every = Math.floor(video.frames / numFrames);
  const started = performance.now();
  const child = spawn(
    binaries.ffmpeg,
    [
      ...['-hide_banner', '-v', 'error', '-nostdin', '-i', video.file, '-map', '0:v:0'],
      ...['-vf', `select='not(mod(n\\,${every}))'`, '-vsync', 'passthrough'],
      ...['-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let bytes = 0;
  for await (const chunk of child.stdout) bytes += (chunk as Buffer).length;
  const code = await new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`naive ffmpeg pass exited with ${code}`);
  const seconds = (performance.now() - started) / 1000;
  return { every, frames: Math.round(bytes / (1920 * 1080 * 3)), seconds };
}

export interface VideoOverhead {
  /** Downloading the file over loopback to disk, as the worker does before anything else. */
  downloadS: number;
  /** ffprobe of the headers and of every packet's time and flags (reads the whole file). */
  timelineS: number;
}

/**
 * The parts of a video request that grow with the file rather than with the frames asked for, timed with
 * the worker's own fetcher and ffprobe calls: they explain what a long video costs beyond a short one.
 */
export async function videoOverhead(
  binaries: FfmpegBinaries,
  url: string,
  maxBytes: number,
): Promise<VideoOverhead> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'facedetect-bench-'));
  try {
    const file = path.join(dir, 'media');
    const fetcher = new MediaFetcher({ allowPrivateAddresses: true, timeoutMs: 120_000 });
    const ffmpeg = new FfmpegRepository({ binaries, limits: VIDEO_LIMITS });
    const t0 = performance.now();
    await fetcher.fetch(url, {
      bytes: maxBytes,
      setting: 'MAX_VIDEO_BYTES',
      target: { memoryBytes: 0, toFile: () => true, file: () => Promise.resolve(file) },
    });
    const t1 = performance.now();
    await ffmpeg.readTimeline(file, await ffmpeg.probe(file));
    const t2 = performance.now();
    return { downloadS: (t1 - t0) / 1000, timelineS: (t2 - t1) / 1000 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
