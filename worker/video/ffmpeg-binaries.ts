import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface FfmpegBinaries {
  ffmpeg: string;
  ffprobe: string;
}

export interface FfmpegBinariesOptions {
  /** An explicit ffmpeg binary (FFMPEG_PATH); used as given, without a search. */
  ffmpegPath?: string;
  /** An explicit ffprobe binary (FFPROBE_PATH); used as given, without a search. */
  ffprobePath?: string;
  /**
   * The process's PATH, searched for a system `ffmpeg`/`ffprobe`. Default: no search, so the bundled
   * binaries are used.
   */
  searchPath?: string;
}

/**
 * Picks one binary: the explicit path, else the first executable `name` on `searchPath`, else
 * `fallback()`. The fallback is called only when needed, because the installer packages throw on load
 * when their platform binary is missing.
 */
export function resolveBinary(
  name: string,
  explicit: string | undefined,
  searchPath: string | undefined,
  fallback: () => string,
  isExecutable: (file: string) => boolean = isExecutableFile,
): string {
  if (explicit) return explicit;
  // Empty PATH entries mean the working directory; a service must not run binaries from there.
  const dirs = (searchPath ?? '').split(path.delimiter).filter((dir) => path.isAbsolute(dir));
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return fallback();
}

/**
 * A system ffmpeg is preferred to the bundled one: the bundled static build dates from 2018, while a
 * distribution's is patched for security.
 */
export function resolveFfmpegBinaries(options: FfmpegBinariesOptions = {}): FfmpegBinaries {
  const require = createRequire(import.meta.url);
  const installed = (pkg: string) => () => (require(pkg) as { path: string }).path;
  return {
    ffmpeg: resolveBinary(
      'ffmpeg',
      options.ffmpegPath,
      options.searchPath,
      installed('@ffmpeg-installer/ffmpeg'),
    ),
    ffprobe: resolveBinary(
      'ffprobe',
      options.ffprobePath,
      options.searchPath,
      installed('@ffprobe-installer/ffprobe'),
    ),
  };
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The first line each binary prints of its version (`ffmpeg version 5.1.8-0+deb12u1 …`), for the start-up
 * log: which build runs decides which files decode. A binary that fails to answer is reported as such.
 */
export async function binaryVersions(
  binaries: FfmpegBinaries,
): Promise<Record<keyof FfmpegBinaries, string>> {
  const version = (file: string) =>
    new Promise<string>((resolve) => {
      execFile(file, ['-version'], { timeout: 5000 }, (err, stdout) => {
        resolve(err ? `unavailable (${err.message.split('\n')[0]})` : (stdout.split('\n')[0] ?? '').trim());
      });
    });
  const [ffmpeg, ffprobe] = await Promise.all([version(binaries.ffmpeg), version(binaries.ffprobe)]);
  return { ffmpeg, ffprobe };
}
