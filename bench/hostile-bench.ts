import { execFile } from 'node:child_process';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FfmpegBinaries } from '../worker/video/ffmpeg-binaries.js';
import { hostileMatroska } from '../test/support/matroska.js';
import { slowestAnswer } from '../test/support/resource-monitor.js';

const run = promisify(execFile);

export interface HostileResult {
  name: string;
  status: number;
  seconds: number;
  /** Slowest /healthz answer of each process while the file was handled. */
  gatewayHealthMs: number;
  workerHealthMs: number;
}

/** The hostile files of the media tests, written once into `cacheDir`; name → path. */
export async function hostileFiles(
  binaries: FfmpegBinaries,
  cacheDir: string,
): Promise<Record<string, string>> {
  await mkdir(cacheDir, { recursive: true });
  const files: Record<string, string> = {};
  const matroska = {
    'claims-3e8-frames.mkv': { durationS: 300_000, frameDurationS: 0.001, blocks: 0 },
    'claims-5e9-frames.mkv': { durationS: 5e6, frameDurationS: 0.001, blocks: 0 },
    'two-million-packets.mkv': { durationS: 2000, frameDurationS: 0.001, blocks: 2_000_000 },
  };
  for (const [name, options] of Object.entries(matroska)) {
    files[name] = path.join(cacheDir, name);
    await writeFile(files[name], hostileMatroska(options));
  }
  files['16000x16000.mp4'] = path.join(cacheDir, '16000x16000.mp4');
  if (!(await stat(files['16000x16000.mp4']).catch(() => undefined))) {
    await run(binaries.ffmpeg, [
      ...['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'color=c=gray:s=16000x16000:r=1'],
      ...[
        '-frames:v',
        '1',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-crf',
        '51',
        files['16000x16000.mp4'],
      ],
    ]);
  }
  return files;
}

/** Slowest answer of `url` while `work` runs, polled every 20 ms. */
async function slowestWhile<T>(url: string, work: Promise<T>): Promise<number> {
  let done = false;
  void work.finally(() => (done = true)).catch(() => undefined);
  return slowestAnswer(url, () => !done, { everyMs: 20, timeoutMs: 10_000 });
}

/** POSTs the hostile file's URL while both processes' /healthz are watched. */
async function measureHostile(
  name: string,
  serviceUrl: string,
  workerHealthUrl: string,
  fileUrl: string,
): Promise<HostileResult> {
  const started = performance.now();
  const answer = fetch(`${serviceUrl}/detect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: fileUrl }),
  }).then(async (res) => {
    await res.arrayBuffer();
    return res.status;
  });
  const [gatewayHealthMs, workerHealthMs, status] = await Promise.all([
    slowestWhile(`${serviceUrl}/healthz`, answer),
    slowestWhile(workerHealthUrl, answer),
    answer,
  ]);
  return { name, status, seconds: (performance.now() - started) / 1000, gatewayHealthMs, workerHealthMs };
}

/** Each hostile file in turn, so one file's work never overlaps another's measurement. */
export async function measureHostileFiles(
  names: string[],
  serviceUrl: string,
  workerHealthUrl: string,
  fileUrl: (name: string) => string,
): Promise<HostileResult[]> {
  const results: HostileResult[] = [];
  for (const name of names)
    results.push(await measureHostile(name, serviceUrl, workerHealthUrl, fileUrl(name)));
  return results;
}
