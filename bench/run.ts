import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageDecoder } from '../worker/media/image-decoder.repository.js';
import { measureBatchRounds } from './batch-rounds.js';
import { localRedisPid } from './cpu.js';
import { photoSenders } from './detect-requests.js';
import { serveFiles, type FileServer } from './file-server.js';
import { hostileFiles, measureHostileFiles, type HostileResult } from './hostile-bench.js';
import { measureImageRounds } from './image-rounds.js';
import { InProcessPipeline, ModelFloorProbe } from './inprocess.js';
import { describeMachine, type Machine } from './machine.js';
import { measurePhotoRounds } from './photo-rounds.js';
import { profileInProcess, profileService, type ProfileContext } from './profile.js';
import { assembleResults, publishResults } from './results.js';
import type { Results } from './report.js';
import { measureScaling } from './scaling-rounds.js';
import type { ServiceProcess } from './processes.js';
import { BenchService } from './service.js';
import {
  args,
  binaries,
  CACHE,
  CLIP,
  CONCURRENCIES,
  config,
  IMAGE,
  log,
  REDIS_URL,
  serviceOptions,
} from './setup.js';
import { ensureVideos, type BenchVideos } from './video-fixtures.js';
import { measureLongVideo, measureVideoRounds } from './video-rounds.js';

/**
 * `npm run bench`: every figure of BENCHMARKS.md, measured side by side in one run, so that ratios hold
 * even on a machine shared with other work. Flags: `--quick` (short runs, for development; BENCHMARKS.md
 * is left alone), `--profile` (CPU profiles of gateway, worker and in-process pipeline under load instead
 * of figures).
 */

/** Image jobs the measured worker runs at once: equal to the highest client concurrency. */
const IMAGE_CONCURRENCY = Math.max(...CONCURRENCIES);

/** What the phases share: the inputs, the file server, the service, and the in-process pipeline. */
interface BenchRun {
  started: number;
  machine: Machine;
  videos: BenchVideos;
  bytes: Buffer;
  hostile: Record<string, string>;
  files: FileServer;
  service: BenchService;
  floorProbe: ModelFloorProbe;
  inProcess: InProcessPipeline;
}

async function bench(): Promise<void> {
  const started = performance.now();
  const machine = await describeMachine(binaries);
  log(`${machine.cpu}, ${machine.cores} cores, load ${machine.loadAverage.start.toFixed(2)}`);
  const videos = await ensureVideos(binaries, CLIP, path.join(CACHE, 'videos'));
  const bytes = await readFile(IMAGE);
  const hostile = await hostileFiles(binaries, path.join(CACHE, 'hostile'));
  const files = await serveFiles({
    'obama-1080p.jpg': IMAGE,
    'ten-seconds.mp4': videos.tenSeconds.file,
    'ten-minutes.mp4': videos.tenMinutes.file,
    'ten-seconds-360p.mp4': videos.tenSecondsSd.file,
    'an-hour-360p.mp4': videos.anHourSd.file,
    ...hostile,
  });
  const service = await BenchService.start(serviceOptions());
  const floorProbe = await ModelFloorProbe.start(config, bytes);
  const inProcess = await InProcessPipeline.start(config);
  try {
    const run = { started, machine, videos, bytes, hostile, files, service, floorProbe, inProcess };
    await publishResults(await measure(run));
  } finally {
    await inProcess.close();
    await floorProbe.close().catch(() => undefined);
    await service.stop();
    await files.close();
  }
}

/** The phases in turn: images in process and by the service, videos, hostile files, scaling. */
async function measure(run: BenchRun): Promise<Results> {
  const { bytes, files, service, floorProbe, inProcess } = run;
  const worker = await service.startWorker('worker', {
    inferenceThreads: config.detector.inferenceThreads,
    imageConcurrency: IMAGE_CONCURRENCY,
  });
  const faces = (await inProcess.detector.detectEncoded(bytes, { autoRotate: config.detector.autoRotate }))
    .faces.length;
  const senders = photoSenders({
    serviceUrl: service.url,
    bytes,
    imageUrl: files.url('obama-1080p.jpg'),
    faces,
  });
  const redis = await localRedisPid(REDIS_URL);
  const serviceCpu = { worker: worker.pid, gateway: service.gateway.pid, redis, client: 'self' as const };
  const images = await measureImageRounds({ inProcess, floorProbe, bytes, faces, senders, serviceCpu });
  const batch = await measureBatchRounds({ serviceUrl: service.url, inProcess, serviceCpu });
  const photos = await measurePhotoRounds(inProcess, bytes);
  await inProcess.close();
  await floorProbe.close();
  const video = await measureVideoRounds(service.url, files);
  const hostile = await measureHostile(run, worker);
  const longVideo = await measureLongVideo(service.url, files, run.videos);
  const workerMiB = worker.peakRssMiB();
  await service.stopWorker('worker');
  const scaling = await measureScaling(service, senders.base64());
  const gatewayMiB = service.gateway.peakRssMiB();
  run.machine.loadAverage.end = os.loadavg()[0];
  return assembleResults({
    started: run.started,
    machine: run.machine,
    settings: await benchSettings(bytes, faces),
    floor: floorProbe.result(),
    images,
    batch,
    photos,
    videos: run.videos,
    video,
    longVideo,
    hostile,
    scaling,
    memory: { gatewayMiB, workerMiB },
  });
}

/** Each hostile file sent in turn, with the slowest /healthz of gateway and worker meanwhile. */
function measureHostile(run: BenchRun, worker: ServiceProcess): Promise<HostileResult[]> {
  log('hostile files: the slowest /healthz of gateway and worker while each is refused');
  const workerPort = /"metricsPort":(\d+)/.exec(worker.log())?.[1];
  return measureHostileFiles(
    Object.keys(run.hostile),
    run.service.url,
    `http://127.0.0.1:${workerPort}/healthz`,
    (name) => run.files.url(name),
  );
}

/** The photo and the settings every figure was taken with. */
async function benchSettings(bytes: Buffer, faces: number): Promise<Results['settings']> {
  const { width, height } = await new ImageDecoder({ maxPixels: config.limits.maxImagePixels }).probe(bytes);
  return {
    image: path.basename(IMAGE),
    imageBytes: bytes.length,
    imageWidth: width,
    imageHeight: height,
    faces,
    detectMaxSide: config.detector.maxSide,
    inferenceThreads: config.detector.inferenceThreads,
    imageConcurrency: IMAGE_CONCURRENCY,
  };
}

const profiling: ProfileContext = {
  image: IMAGE,
  dir: path.join(CACHE, 'profiles'),
  config,
  serviceOptions,
  log,
  script: fileURLToPath(import.meta.url),
};
const main = args.has('--profile-target')
  ? () => profileInProcess(profiling)
  : args.has('--profile')
    ? () => profileService(profiling)
    : bench;
main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
