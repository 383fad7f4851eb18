import { readFile, writeFile } from 'node:fs/promises';
import type { AutoRotateResults } from './orientation-bench.js';
import type { BatchFigures } from './batch-rounds.js';
import * as prettier from 'prettier';
import type { LoadResult } from './http-load.js';
import { rows } from './report-rows.js';
import type { ModelFloor } from './inprocess.js';
import type { Machine } from './machine.js';
import type { NaiveResult, VideoOverhead, VideoRequestResult } from './video-bench.js';
import type { BenchVideo } from './video-fixtures.js';
import type { HostileResult } from './hostile-bench.js';

export interface Results {
  date: string;
  /** Short runs for development: fewer requests, no 100-frame video or baseline. */
  quick: boolean;
  durationS: number;
  machine: Machine;
  settings: {
    image: string;
    imageBytes: number;
    imageWidth: number;
    imageHeight: number;
    faces: number;
    detectMaxSide: number;
    inferenceThreads: number;
    /** Image jobs the measured worker runs at once: equal to the highest client concurrency. */
    imageConcurrency: number;
  };
  floor: ModelFloor;
  pipeline: Record<string, LoadResult>;
  base64: Record<string, LoadResult>;
  url: Record<string, LoadResult>;
  /** The image as the request body (Content-Type: image/jpeg). */
  raw?: Record<string, LoadResult>;
  /** CPU ms per image by process (in-process: this one; end to end: worker, gateway, Redis, client). */
  cpuPerImage: Record<string, Record<string, Record<string, number>>>;
  /** 16 photos in one POST /detect/batch against the same 16 as concurrent POST /detect. */
  batch?: BatchFigures;
  scaling: { oneWorker: LoadResult; twoWorkers: LoadResult; ratio: number };
  video?: {
    tenSeconds: BenchVideo;
    tenMinutes: BenchVideo;
    shortFive: VideoRequestResult;
    longFive: VideoRequestResult;
    /** Bytes the origin sent for one num_frames=5 request on the 10-minute video (median). */
    longReadBytes: number;
    tenSecondsSd: BenchVideo;
    anHourSd: BenchVideo;
    sdShortFive: VideoRequestResult;
    hourFive: VideoRequestResult;
    hourReadBytes: number;
    overhead: { short: VideoOverhead; long: VideoOverhead };
    longHundred?: VideoRequestResult;
    naive?: NaiveResult;
  };
  memory: { gatewayMiB: number; workerMiB: number; oneThreadWorkersMiB: number[] };
  hostile: HostileResult[];
  autoRotate?: AutoRotateResults;
  /** CPU ms per image in process, a 4032×3024 JPEG against the bench's photo. */
  phone?: { phoneMs: number; photoMs: number };
}

function machineLine(m: Machine): string {
  const load = `load average ${m.loadAverage.start.toFixed(2)} at start, ${m.loadAverage.end?.toFixed(2) ?? '?'} at end`;
  return (
    `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.kernel}; ${load}. ` +
    `Node ${m.node}, onnxruntime-node ${m.onnxruntime}, sharp ${m.sharp} (libvips ${m.libvips}), ffmpeg ${m.ffmpeg}`
  );
}

export function textTable(r: Results): string {
  const all = rows(r);
  const w0 = Math.max(...all.map((row) => row[0].length));
  const w1 = Math.max(...all.map((row) => row[1].length));
  return [
    machineLine(r.machine),
    '',
    ...all.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`.trimEnd()),
  ].join('\n');
}

function markdownTable(r: Results): string {
  return [
    '| figure | value | compared |',
    '| --- | --- | --- |',
    ...rows(r).map(([a, b, c]) => `| ${a} | ${b} | ${c} |`),
  ].join('\n');
}

const BEGIN = '<!-- bench:begin (written by npm run bench; edit outside these markers) -->';
const END = '<!-- bench:end -->';

/** Replaces the generated block of BENCHMARKS.md, leaving the hand-written text around it alone. */
export async function updateBenchmarksMd(file: string, r: Results): Promise<void> {
  const block = [
    BEGIN,
    '',
    `Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC in ${Math.round(r.durationS)} s on: ${machineLine(r.machine)}.`,
    '',
    markdownTable(r),
    '',
    END,
  ].join('\n');
  const current = await readFile(file, 'utf8').catch(() => `# Benchmarks\n\n${BEGIN}\n${END}\n`);
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${file} lacks the bench markers`);
  const text = current.slice(0, start) + block + current.slice(end + END.length);
  // Formatted as `npm run format:check` wants it, so a run leaves the tree clean.
  const options = (await prettier.resolveConfig(file)) ?? {};
  await writeFile(file, await prettier.format(text, { ...options, filepath: file }));
}
