import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../shared/config/config.js';
import { ImageDecoder } from '../worker/media/image-decoder.repository.js';
import { resolveFfmpegBinaries } from '../worker/video/ffmpeg-binaries.js';
import { serveFiles } from './file-server.js';
import { detectSender, pool, runLoad, type LoadOptions, type LoadSample } from './http-load.js';
import { InProcessPipeline, ModelFloorProbe, phoneAgainstPhoto } from './inprocess.js';
import { localRedisPid, measureCpu, type CpuTargets } from './cpu.js';
import { describeMachine } from './machine.js';
import { profileInProcess, profileService, type ProfileContext } from './profile.js';
import { textTable, updateBenchmarksMd, type Results } from './report.js';
import { BenchService } from './service.js';
import { median } from './stats.js';
import {
  naiveSampling,
  shortAndLong,
  timeVideoRequest,
  videoOverhead,
  videoResult,
  type VideoOverhead,
} from './video-bench.js';
import { ensureVideos } from './video-fixtures.js';
import { hostileFiles, measureHostileFiles } from './hostile-bench.js';
import { autoRotatePictures, measureAutoRotate } from './orientation-bench.js';

/**
 * `npm run bench`: every figure of BENCHMARKS.md, measured side by side in one run, so that ratios hold
 * even on a machine shared with other work. Flags: `--quick` (short runs, for development; BENCHMARKS.md
 * is left alone), `--profile` (CPU profiles of gateway, worker and in-process pipeline under load instead
 * of figures).
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHARED = path.resolve(process.env.SHARED_DIR ?? path.join(ROOT, '../shared'));
const IMAGE = path.join(SHARED, 'fixtures/images/obama-1080p.jpg');
const CLIP = path.join(SHARED, 'fixtures/video/short_hamilton_clip.mp4');
/** The portrait whose lower part (suit, flag, no face) is the bench's photo without a face. */
const PORTRAIT = path.join(SHARED, 'fixtures/images/obama.jpg');
const CACHE = path.join(ROOT, 'bench/.cache');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CONCURRENCIES = [1, 8];

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');

/** Measurements of a kind are split into rounds taken in turns with the others they are compared with. */
const ROUNDS = quick ? 1 : 3;
const bounds = (concurrency: number, round: number): LoadOptions => ({
  concurrency,
  maxRequests: quick ? 10 * concurrency : concurrency === 1 ? 15 : 60,
  maxSeconds: quick ? 4 : concurrency === 1 ? 4 : 5,
  warmupPerClient: round === 0 ? 1 : 0,
});

const config = loadConfig({ MODELS_DIR: path.join(ROOT, 'models'), LOG_LEVEL: 'silent' });
const binaries = resolveFfmpegBinaries({ searchPath: process.env.PATH });

function log(message: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function serviceOptions(nodeArgs?: string[]) {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  return {
    root: ROOT,
    logDir: path.join(CACHE, 'logs'),
    redisUrl: REDIS_URL,
    prefix,
    dataDir: path.join(os.tmpdir(), `facedetect-${prefix}`),
    nodeArgs,
  };
}

async function bench(): Promise<void> {
  const started = performance.now();
  const machine = await describeMachine(binaries);
  log(`${machine.cpu}, ${machine.cores} cores, load ${machine.loadAverage.start.toFixed(2)}`);
  const videos = await ensureVideos(binaries, CLIP, path.join(CACHE, 'videos'));
  const bytes = await readFile(IMAGE);
  const { width, height } = await new ImageDecoder({ maxPixels: config.limits.maxImagePixels }).probe(bytes);
  const threads = config.detector.inferenceThreads;
  const imageConcurrency = Math.max(...CONCURRENCIES);

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
    const worker = await service.startWorker('worker', { inferenceThreads: threads, imageConcurrency });
    const faces = (await inProcess.detector.detectEncoded(bytes, { autoRotate: config.detector.autoRotate }))
      .faces.length;
    const check = (answer: { faces_obj: Record<string, { region: number[][] }> }) => {
      const found = answer.faces_obj['0']?.region.length;
      if (found !== faces)
        throw new Error(`the service found ${found} faces, the in-process pipeline ${faces}`);
    };
    const detectUrl = `${service.url}/detect`;
    const base64Body = JSON.stringify({ img: bytes.toString('base64') });
    const urlBody = JSON.stringify({ url: files.url('obama-1080p.jpg') });

    // Per kind, per concurrency: the rounds' samples, and the CPU each process spent on them.
    const kinds = ['pipeline', 'base64', 'url', 'raw'] as const;
    type Kind = (typeof kinds)[number];
    const samples = Object.fromEntries(kinds.map((k) => [k, CONCURRENCIES.map((): LoadSample[] => [])]));
    const cpu = Object.fromEntries(
      kinds.map((k) => [k, CONCURRENCIES.map((): Record<string, number> => ({}))]),
    );
    const redisPid = await localRedisPid(REDIS_URL);
    const serviceCpu = {
      worker: worker.pid,
      gateway: service.gateway.pid,
      redis: redisPid,
      client: 'self' as const,
    };
    const measured = async (kind: Kind, i: number, targets: CpuTargets, work: () => Promise<LoadSample>) => {
      const { value, cpuMs } = await measureCpu(targets, work);
      samples[kind]![i]!.push(value);
      for (const [name, ms] of Object.entries(cpuMs)) cpu[kind]![i]![name] = (cpu[kind]![i]![name] ?? 0) + ms;
    };
    for (const [i, c] of CONCURRENCIES.entries()) {
      for (let round = 0; round < ROUNDS; round++) {
        log(`concurrency ${c}, round ${round + 1}/${ROUNDS}: in-process, base64, url, raw`);
        if (c === 1) await floorProbe.measure(quick ? 10 : 20, quick ? 3 : 4);
        await measured('pipeline', i, { 'in-process': 'self' }, () =>
          inProcess.load(bytes, bounds(c, round), faces),
        );
        await measured('base64', i, serviceCpu, () =>
          runLoad(bounds(c, round), detectSender(detectUrl, base64Body, check)),
        );
        await measured('url', i, serviceCpu, () =>
          runLoad(bounds(c, round), detectSender(detectUrl, urlBody, check)),
        );
        await measured('raw', i, serviceCpu, () =>
          runLoad(bounds(c, round), detectSender(detectUrl, bytes, check, 'image/jpeg')),
        );
      }
    }
    const cpuPerImage = Object.fromEntries(
      kinds.map((k) => [
        k,
        Object.fromEntries(
          CONCURRENCIES.map((c, i) => {
            const images = samples[k]![i]!.reduce((n, s) => n + s.latencies.length, 0);
            const perProcess = Object.entries(cpu[k]![i]!).map(([name, ms]) => [name, ms / images]);
            return [String(c), Object.fromEntries(perProcess) as Record<string, number>];
          }),
        ),
      ]),
    );
    const byConcurrency = (lists: LoadSample[][]) =>
      Object.fromEntries(CONCURRENCIES.map((c, i) => [String(c), pool(lists[i]!)]));
    log('auto_rotate off and on, in-process, one image at a time');
    const autoRotate = await measureAutoRotate(
      inProcess.detector,
      await autoRotatePictures(bytes, await readFile(PORTRAIT)),
      { rounds: ROUNDS, perRound: quick ? 3 : 8 },
    );
    // After auto_rotate: the phone photo's large buffers would otherwise be collected during it.
    log('a 12-megapixel phone photo against the 1080p one, in-process, one image at a time');
    const phoneCpu = await phoneAgainstPhoto(inProcess, bytes, await readFile(PORTRAIT), {
      rounds: ROUNDS,
      perRound: quick ? 3 : 8,
    });
    await inProcess.close();
    await floorProbe.close();

    log('video: num_frames=5 on 10 s and 10 min, in turns');
    const shortUrl = files.url('ten-seconds.mp4');
    const longUrl = files.url('ten-minutes.mp4');
    await timeVideoRequest(service.url, shortUrl, 5);
    const shortRuns: number[] = [];
    const longRuns: number[] = [];
    const overheads: { short: VideoOverhead[]; long: VideoOverhead[] } = { short: [], long: [] };
    const maxBytes = config.limits.maxVideoBytes;
    const readBytes = async (name: string, work: () => Promise<number>) => {
      const before = files.bytesSent(name);
      const seconds = await work();
      return { seconds, bytes: files.bytesSent(name) - before };
    };
    const longRead: number[] = [];
    for (let i = 0; i < 3; i++) {
      shortRuns.push(await timeVideoRequest(service.url, shortUrl, 5));
      const long = await readBytes('ten-minutes.mp4', () => timeVideoRequest(service.url, longUrl, 5));
      longRuns.push(long.seconds);
      longRead.push(long.bytes);
      overheads.short.push(await videoOverhead(binaries, shortUrl, maxBytes));
      overheads.long.push(await videoOverhead(binaries, longUrl, maxBytes));
    }
    log('video: num_frames=5 on an hour of 640×360 read by range, and on its 10-s segment, in turns');
    const sd = await shortAndLong(
      service.url,
      files.url('ten-seconds-360p.mp4'),
      files.url('an-hour-360p.mp4'),
      () => files.bytesSent('an-hour-360p.mp4'),
    );
    log('hostile files: the slowest /healthz of gateway and worker while each is refused');
    const workerPort = /"metricsPort":(\d+)/.exec(worker.log())?.[1];
    const hostileResults = await measureHostileFiles(
      Object.keys(hostile),
      service.url,
      `http://127.0.0.1:${workerPort}/healthz`,
      (name) => files.url(name),
    );
    const medianOverhead = (list: VideoOverhead[]): VideoOverhead => ({
      downloadS: median(list.map((o) => o.downloadS)),
      timelineS: median(list.map((o) => o.timelineS)),
    });
    let longHundred;
    let naive;
    if (!quick) {
      log('video: num_frames=100 on 10 min');
      longHundred = videoResult(100, [await timeVideoRequest(service.url, longUrl, 100)]);
      log('video: naive full decode of 10 min');
      naive = await naiveSampling(binaries, videos.tenMinutes, 100);
    }
    const workerMiB = worker.peakRssMiB();
    await service.stopWorker('worker');

    log('scaling: 1 and 2 worker processes × 1 inference thread, in turns');
    const oneThread = { inferenceThreads: 1, imageConcurrency: 4 };
    const send = detectSender(detectUrl, base64Body, check);
    const one: LoadSample[] = [];
    const two: LoadSample[] = [];
    const oneThreadWorkersMiB = [0, 0];
    const first = await service.startWorker('worker-1', oneThread);
    for (let round = 0; round < (quick ? 1 : 2); round++) {
      one.push(await runLoad({ ...bounds(8, round), warmupPerClient: 1 }, send));
      const second = await service.startWorker('worker-2', oneThread);
      two.push(await runLoad({ ...bounds(8, round), warmupPerClient: 1 }, send));
      oneThreadWorkersMiB[1] = Math.max(oneThreadWorkersMiB[1]!, second.peakRssMiB());
      await service.stopWorker('worker-2');
    }
    oneThreadWorkersMiB[0] = first.peakRssMiB();
    const gatewayMiB = service.gateway.peakRssMiB();

    machine.loadAverage.end = os.loadavg()[0];
    const oneWorker = pool(one);
    const twoWorkers = pool(two);
    const results: Results = {
      date: new Date().toISOString(),
      quick,
      durationS: (performance.now() - started) / 1000,
      machine,
      settings: {
        image: path.basename(IMAGE),
        imageBytes: bytes.length,
        imageWidth: width,
        imageHeight: height,
        faces,
        detectMaxSide: config.detector.maxSide,
        inferenceThreads: threads,
        imageConcurrency,
      },
      floor: floorProbe.result(),
      pipeline: byConcurrency(samples.pipeline!),
      base64: byConcurrency(samples.base64!),
      url: byConcurrency(samples.url!),
      raw: byConcurrency(samples.raw!),
      cpuPerImage,
      scaling: { oneWorker, twoWorkers, ratio: twoWorkers.perSecond / oneWorker.perSecond },
      video: {
        ...videos,
        shortFive: videoResult(5, shortRuns),
        longFive: videoResult(5, longRuns),
        longReadBytes: median(longRead),
        sdShortFive: videoResult(5, sd.shortRuns),
        hourFive: videoResult(5, sd.longRuns),
        hourReadBytes: median(sd.longBytes),
        overhead: { short: medianOverhead(overheads.short), long: medianOverhead(overheads.long) },
        longHundred,
        naive,
      },
      memory: { gatewayMiB, workerMiB, oneThreadWorkersMiB },
      hostile: hostileResults,
      autoRotate,
      phone: phoneCpu,
    };
    await writeFile(path.join(ROOT, 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.log(textTable(results));
    if (!quick) await updateBenchmarksMd(path.join(ROOT, 'BENCHMARKS.md'), results);
  } finally {
    await inProcess.close();
    await floorProbe.close().catch(() => undefined);
    await service.stop();
    await files.close();
  }
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
