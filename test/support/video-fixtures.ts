import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { resolveFfmpegBinaries } from '../../worker/video/ffmpeg-binaries.js';

const run = promisify(execFile);
export const BINARIES = resolveFfmpegBinaries({ searchPath: process.env.PATH });

/** Runs ffmpeg with `args` (tests make their own videos from the fixtures). */
export async function ffmpeg(args: string[]): Promise<void> {
  await run(BINARIES.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Presentation times of every decoded frame, from ffprobe, in display order. */
export async function framePts(file: string): Promise<number[]> {
  const { stdout } = await run(
    BINARIES.ffprobe,
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'frame=pts_time,best_effort_timestamp_time',
      '-of',
      'csv=p=0',
      file,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout
    .trim()
    .split('\n')
    .map((line) => Number(line.split(',').find((v) => v !== '' && v !== 'N/A')))
    .sort((a, b) => a - b);
}
