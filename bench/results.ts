import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BatchFigures } from './batch-rounds.js';
import type { HostileResult } from './hostile-bench.js';
import type { ImageFigures } from './image-rounds.js';
import type { ModelFloor } from './inprocess.js';
import type { Machine } from './machine.js';
import type { PhotoFigures } from './photo-rounds.js';
import { textTable, updateBenchmarksMd, type Results } from './report.js';
import type { ScalingFigures } from './scaling-rounds.js';
import { quick, ROOT } from './setup.js';
import type { BenchVideos } from './video-fixtures.js';
import type { measureLongVideo, VideoFigures } from './video-rounds.js';

/** Every phase's figures, as the run took them. */
export interface BenchFigures {
  /** performance.now() when the run began. */
  started: number;
  machine: Machine;
  settings: Results['settings'];
  floor: ModelFloor;
  images: ImageFigures;
  batch: BatchFigures;
  photos: PhotoFigures;
  videos: BenchVideos;
  video: VideoFigures;
  longVideo: Awaited<ReturnType<typeof measureLongVideo>>;
  hostile: HostileResult[];
  scaling: ScalingFigures;
  memory: { gatewayMiB: number; workerMiB: number };
}

export function assembleResults(f: BenchFigures): Results {
  return {
    date: new Date().toISOString(),
    quick,
    durationS: (performance.now() - f.started) / 1000,
    machine: f.machine,
    settings: f.settings,
    floor: f.floor,
    ...f.images.load,
    cpuPerImage: f.images.cpuPerImage,
    batch: f.batch,
    scaling: f.scaling.scaling,
    video: { ...f.videos, ...f.video, ...f.longVideo },
    memory: { ...f.memory, oneThreadWorkersMiB: f.scaling.oneThreadWorkersMiB },
    hostile: f.hostile,
    autoRotate: f.photos.autoRotate,
    phone: f.photos.phone,
  };
}

/** bench/results.json, the text table on stdout, and BENCHMARKS.md unless the run was quick. */
export async function publishResults(results: Results): Promise<void> {
  await writeFile(path.join(ROOT, 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(textTable(results));
  if (!quick) await updateBenchmarksMd(path.join(ROOT, 'BENCHMARKS.md'), results);
}
