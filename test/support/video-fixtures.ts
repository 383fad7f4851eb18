import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolveFfmpegBinaries } from '../../worker/video/ffmpeg-binaries.js';
import { VIDEOS } from './fixtures.js';

/** Helpers for tests that run the real ffmpeg: the shared clip, a scratch folder, and direct calls. */

export const CLIP = path.join(VIDEOS, 'short_hamilton_clip.mp4');

/**
 * The binaries the service under test runs: FFMPEG_PATH/FFPROBE_PATH when set, else the bundled ones a
 * fresh `npm ci` gives. Test files are made with the same ffmpeg that then reads them.
 */
export const binaries = resolveFfmpegBinaries({
  ffmpegPath: process.env.FFMPEG_PATH,
  ffprobePath: process.env.FFPROBE_PATH,
});

/** The service's default video limits (MAX_VIDEO_PIXELS, MAX_VIDEO_FRAMES). */
export const TEST_VIDEO_LIMITS = { maxPixels: 4096 * 4096, maxFrames: 300_000 };

const execFileAsync = promisify(execFile);
/** As the service runs them: the static builds crash on MPEG-TS otherwise (see ToolProcess). */
const env = { ...process.env, GCONV_PATH: '/nonexistent/facedetect-no-gconv' };

export async function ffmpeg(...args: string[]): Promise<Buffer> {
  const { stdout } = await execFileAsync(binaries.ffmpeg, ['-v', 'error', '-nostdin', ...args], {
    encoding: 'buffer',
    maxBuffer: 256 * 1024 * 1024,
    env,
  });
  return stdout;
}

export async function ffprobe(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(binaries.ffprobe, ['-v', 'error', ...args], {
    maxBuffer: 64 * 1024 * 1024,
    env,
  });
  return stdout;
}

/** Presentation times of every frame, found by decoding (the decoder's best effort where the container stores none, as AVI): independent of how the repository reads them. */
export async function decodedFrameTimes(file: string): Promise<number[]> {
  const out = await ffprobe(
    '-select_streams',
    'v:0',
    '-show_entries',
    'frame=best_effort_timestamp_time',
    '-of',
    'csv=p=0',
    file,
  );
  // Frames with side data get extra, empty CSV fields, and blank lines after them.
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => Number(line.split(',')[0]));
}

/** The container's start time: where a player's clock, and so `frame_time`, counts from. */
export async function containerStart(file: string): Promise<number> {
  return Number((await ffprobe('-show_entries', 'format=start_time', '-of', 'csv=p=0', file)).trim());
}

/** Decoded frame times on a player's clock: from the container's start. */
export async function playerFrameTimes(file: string): Promise<number[]> {
  const start = await containerStart(file);
  return (await decodedFrameTimes(file)).map((t) => t - start);
}

/** Frame `n` (display order) of the first video stream, by decoding from the start: the reference picture. */
export function decodeFrameAt(file: string, n: number, width: number, height: number): Promise<Buffer> {
  return ffmpeg(
    '-i',
    file,
    '-map',
    '0:v:0',
    '-vf',
    `select=eq(n\\,${n}),scale=${width}:${height}`,
    '-vsync',
    'passthrough',
    '-frames:v',
    '1',
    '-pix_fmt',
    'rgb24',
    '-f',
    'rawvideo',
    'pipe:1',
  );
}

export async function scratchDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'facedetect-video-test-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Mean absolute difference per byte between two equally sized images. */
export function meanAbsDiff(a: Buffer, b: Buffer): number {
  if (a.length !== b.length) return Infinity;
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return sum / a.length;
}
