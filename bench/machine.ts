import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { FfmpegBinaries } from '../worker/video/ffmpeg-binaries.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  onnxruntime: string;
  sharp: string;
  libvips: string;
  ffmpeg: string;
  /** 1-minute load average at the start and end of the run: other work on a shared machine shows here. */
  loadAverage: { start: number; end?: number };
}

/** What the figures were measured on; they mean little without it. */
export async function describeMachine(binaries: FfmpegBinaries): Promise<Machine> {
  const { stdout } = await promisify(execFile)(binaries.ffmpeg, ['-version']);
  return {
    cpu: cpuModel(),
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    onnxruntime: ort.env.versions.node ?? ort.env.versions.common,
    sharp: sharp.versions.sharp ?? 'unknown',
    libvips: sharp.versions.vips,
    ffmpeg:
      (/^ffmpeg version (\S+)/.exec(stdout)?.[1] ?? 'unknown') +
      (binaries.ffmpeg.includes('node_modules') ? ' (bundled)' : ''),
    loadAverage: { start: os.loadavg()[0]! },
  };
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1]!.trim();
  } catch {
    // Not Linux: os.cpus() below.
  }
  return os.cpus()[0]?.model ?? 'unknown';
}
