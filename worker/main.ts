import { loadConfig, type Config } from '../shared/config/config.js';
import { createLogger, type Logger } from '../shared/logging/logger.js';
import { MediaBlobRepository } from '../shared/queue/media-blob.repository.js';
import { createRedis, type RedisClient } from '../shared/queue/redis-connection.js';
import { BatchFinisher } from '../shared/batch/batch-finisher.js';
import { watchRedisOutages, type RedisOutageLog } from '../shared/queue/redis-outage-log.js';
import { isEntryPoint, runMain } from '../shared/process/run-main.js';
import { createRegistry, WorkerMetrics } from '../shared/metrics/metrics.js';
import { startMetricsServer } from '../shared/metrics/metrics-server.js';
import { startFaceDetection, type FaceDetection } from './detection/start-face-detection.js';
import { MediaFetcher } from './fetch/media-fetcher.js';
import { WebhookPoster } from './fetch/webhook-poster.js';
import { MediaSourceService } from './services/media-source.service.js';
import type { InferencePool } from './inference/inference-pool.js';
import { BitmapConverter } from './media/bitmap-converter.repository.js';
import { DetectWorkerRepository } from './queue/detect-worker.repository.js';
import { DetectJobService } from './services/detect-job.service.js';
import { CropService } from './services/crop.service.js';
import { VideoDetectionService } from './services/video-detection.service.js';
import { MediaDetectionService } from './services/media-detection.service.js';
import { FrameStepService } from './services/frame-step.service.js';
import { FfmpegRepository } from './video/ffmpeg.repository.js';
import { binaryVersions, resolveFfmpegBinaries, type FfmpegBinaries } from './video/ffmpeg-binaries.js';
import { FramePipeline } from './video/frame-pipeline.js';
import { WebhookQueueRepository } from './queue/webhook-queue.repository.js';
import { WebhookService } from './services/webhook.service.js';
import type { CropStorage } from '../shared/storage/crop-storage.js';
import { cropLinkSignerFromConfig, cropStorageFromConfig } from '../shared/storage/crop-storage.factory.js';

export interface WorkerHandle {
  log: Logger;
  pool: InferencePool;
  /** Port of this worker's /metrics (WORKER_METRICS_PORT). */
  metricsPort: number;
  /** Told to a supervising parent once the worker takes jobs (see WorkerSupervisor). */
  readyMessage: { type: 'ready'; threads: number };
  /** Stops taking jobs, lets active ones finish, then releases the model threads. */
  stop(): Promise<void>;
}

export interface WorkerStartOptions {
  config?: Config;
  log?: Logger;
  /**
   * Which resolved addresses a `url` may reach while ALLOW_PRIVATE_URLS is false. Default: public
   * addresses only. Tests let one loopback address stand for a public host, to follow a redirect from it.
   */
  isAllowedAddress?: (ip: string) => boolean;
}

/** Starts a worker process's queue consumers. A missing or corrupt model stops it here, before any job. */
export async function start(options: WorkerStartOptions = {}): Promise<WorkerHandle> {
  const config = options.config ?? loadConfig();
  const log = options.log ?? createLogger(config.logLevel, 'worker');

  const registry = createRegistry();
  const metrics = new WorkerMetrics(registry);
  const detection = await startFaceDetection(config, (seconds) => metrics.inference.observe(seconds));
  const { pool } = detection;
  const redis = createRedis(config.redis, 'worker', 'facedetect-worker-blobs');
  const outage = watchRedisOutages(redis, log, config.redis.display);
  const guard = fetchGuard(config, options.isAllowedAddress);
  const storage = await startCropStorage(config, log, pool);
  const links = cropLinkSignerFromConfig(config, redis, config.publicBaseUrl);
  const crops = new CropService(detection.decoder, storage, links);
  const binaries = resolveFfmpegBinaries({
    ffmpegPath: config.video.ffmpegPath,
    ffprobePath: config.video.ffprobePath,
    searchPath: config.video.searchPath,
  });
  const service = detectJobService(config, log, metrics, {
    ...detection,
    crops,
    binaries,
    blobs: new MediaBlobRepository(redis, config.queuePrefix),
    fetcher: new MediaFetcher(guard),
  });
  const { webhookQueue, webhooks } = await startWebhooks(config, log, redis, {
    outage,
    poster: new WebhookPoster(guard),
  });
  const consumers = detectConsumers(config, log, metrics, outage, webhooks, service);
  const metricsServer = await startMetricsServer(registry, config.worker.metricsPort, config.host);
  await consumers.start();
  log.info(
    {
      ...detectorFields(config, pool),
      metricsPort: metricsServer.port,
      binaries,
      versions: await binaryVersions(binaries),
    },
    'worker ready',
  );

  return {
    log,
    pool,
    metricsPort: metricsServer.port,
    readyMessage: { type: 'ready', threads: pool.size },
    async stop() {
      metricsServer.server.close();
      await consumers.close();
      await webhookQueue.close();
      await pool.close();
      await storage.close();
      redis.disconnect();
    },
  };
}

/** How media downloads and callbacks reach users' URLs: the SSRF guard and the time limits. */
function fetchGuard(config: Config, isAllowedAddress: WorkerStartOptions['isAllowedAddress']) {
  return {
    allowPrivateAddresses: config.security.allowPrivateUrls,
    timeoutMs: config.limits.downloadTimeoutMs,
    stallTimeoutMs: config.limits.downloadStallTimeoutMs,
    isAllowedAddress,
  };
}

/** Crop storage, checked before any job; a storage that fails the check releases the model threads. */
async function startCropStorage(config: Config, log: Logger, pool: InferencePool): Promise<CropStorage> {
  const storage = cropStorageFromConfig(config, log);
  await storage.init().catch(async (err: unknown) => {
    await pool.close();
    throw err;
  });
  return storage;
}

/** The detector the worker runs, as its ready line names it. */
function detectorFields(config: Config, pool: InferencePool) {
  return {
    threads: pool.size,
    model: config.detector.modelName,
    family: config.detector.family,
    modelPath: config.detector.modelPath,
    provider: config.detector.session.provider,
  };
}

/** The callback queue and the service that delivers its jobs, taking deliveries already. */
async function startWebhooks(
  config: Config,
  log: Logger,
  redis: RedisClient,
  { outage, poster }: { outage: RedisOutageLog; poster: WebhookPoster },
): Promise<{ webhookQueue: WebhookQueueRepository; webhooks: WebhookService }> {
  const webhookQueue = new WebhookQueueRepository(
    { redis: config.redis, prefix: config.queuePrefix, retentionS: config.jobs.resultTtlS, outage },
    log,
  );
  // Items of a batch with a callback record their ends under it; the last record queues the answer.
  const batches = new BatchFinisher(redis, config.queuePrefix, config.jobs.resultTtlS, webhookQueue);
  const webhooks = new WebhookService(webhookQueue, poster, config.webhookSecret, batches);
  await webhookQueue.start(webhooks.deliver);
  return { webhookQueue, webhooks };
}

/** What a job's services are made of, beyond the configuration. */
interface JobParts extends FaceDetection {
  crops: CropService;
  binaries: FfmpegBinaries;
  blobs: MediaBlobRepository;
  fetcher: MediaFetcher;
}

/** One job from its media to its answer: sources, image and video detection, crops. */
function detectJobService(
  config: Config,
  log: Logger,
  metrics: WorkerMetrics,
  parts: JobParts,
): DetectJobService {
  const { detector, decoder, blobs, fetcher, binaries } = parts;
  const { frames, video } = frameDetection(config, metrics, parts);
  const bitmaps = new BitmapConverter({
    binaries,
    maxPixels: config.limits.maxImagePixels,
    idleTimeoutMs: config.video.idleTimeoutMs,
  });
  const sources = new MediaSourceService(
    blobs,
    fetcher,
    {
      maxImageBytes: config.limits.maxImageBytes,
      maxVideoBytes: config.limits.maxVideoBytes,
      rangeReadMinBytes: config.limits.rangeReadMinBytes,
      log,
    },
    metrics,
  );
  return new DetectJobService(
    detector,
    decoder,
    bitmaps,
    frames,
    video,
    blobs,
    sources,
    fetcher.client,
    {
      maxVideoBytes: config.limits.maxVideoBytes,
      workerName: config.worker.name,
      videoTimeoutMs: config.video.jobTimeoutMs,
      ffmpegIdleTimeoutMs: config.video.idleTimeoutMs,
      log,
    },
    metrics,
  );
}

/** The per-frame pipeline shared by images and videos, and the video frames ffmpeg feeds into it. */
function frameDetection(
  config: Config,
  metrics: WorkerMetrics,
  { pool, detector, crops, binaries }: JobParts,
): { frames: MediaDetectionService; video: VideoDetectionService } {
  const ffmpeg = new FfmpegRepository({
    binaries,
    idleTimeoutMs: config.video.idleTimeoutMs,
    limits: { maxPixels: config.limits.maxVideoPixels, maxFrames: config.limits.maxVideoFrames },
  });
  const pipeline = new FramePipeline(ffmpeg, {
    maxSide: config.detector.maxSide,
    maxFrames: config.limits.maxVideoFrames,
    onFrame: (seconds) => metrics.extraction.observe(seconds),
  });
  const frames = new MediaDetectionService(
    new FrameStepService(crops, metrics, { scoreThreshold: config.detector.scoreThreshold }),
    { parallelFrames: pool.size },
  );
  return { frames, video: new VideoDetectionService(pipeline, detector, frames) };
}

/** The image and video queue consumers, counting each job's end and handing final ones to the webhooks. */
function detectConsumers(
  config: Config,
  log: Logger,
  metrics: WorkerMetrics,
  outage: RedisOutageLog,
  webhooks: WebhookService,
  service: DetectJobService,
): DetectWorkerRepository {
  return new DetectWorkerRepository(
    {
      redis: config.redis,
      prefix: config.queuePrefix,
      concurrency: { image: config.worker.imageConcurrency, video: config.worker.videoConcurrency },
      maxQueueDepth: config.limits.maxQueueDepth,
      lockDurationMs: config.worker.lockDurationMs,
      stalledIntervalMs: config.worker.stalledIntervalMs,
      outage,
      onJobEnd: (kind, outcome, seconds) => {
        metrics.jobs.inc({ kind, outcome });
        metrics.jobDuration.observe({ kind }, seconds);
      },
      onFinal: webhooks.onJobFinal,
    },
    (job) => service.handle(job),
    log,
  );
}

if (isEntryPoint(import.meta.url)) runMain('worker', start);
