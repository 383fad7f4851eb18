import { loadConfig, type Config } from '../shared/config/config.js';
import { createLogger, type Logger } from '../shared/logging/logger.js';
import { MediaBlobRepository } from '../shared/queue/media-blob.repository.js';
import { createRedis, REDIS_RETRY_INTERVAL_MS } from '../shared/queue/redis-connection.js';
import { RedisOutageLog } from '../shared/queue/redis-outage-log.js';
import { isEntryPoint, runMain } from '../shared/process/run-main.js';
import { createRegistry, WorkerMetrics } from '../shared/metrics/metrics.js';
import { startMetricsServer } from '../shared/metrics/metrics-server.js';
import { FaceDetectionService } from './detection/face-detection.service.js';
import { MediaFetcher } from './fetch/media-fetcher.js';
import { WebhookPoster } from './fetch/webhook-poster.js';
import { MediaSourceService } from './services/media-source.service.js';
import { InferencePool } from './inference/inference-pool.js';
import { BitmapConverter } from './media/bitmap-converter.repository.js';
import { ImageDecoder } from './media/image-decoder.repository.js';
import { DetectWorkerRepository } from './queue/detect-worker.repository.js';
import { DetectJobService } from './services/detect-job.service.js';
import { CropService } from './services/crop.service.js';
import { VideoDetectionService } from './services/video-detection.service.js';
import { MediaDetectionService } from './services/media-detection.service.js';
import { FrameStepService } from './services/frame-step.service.js';
import { familyThreadUrl } from './inference/family-thread.js';
import { FfmpegRepository } from './video/ffmpeg.repository.js';
import { binaryVersions, resolveFfmpegBinaries } from './video/ffmpeg-binaries.js';
import { FramePipeline } from './video/frame-pipeline.js';
import { WebhookQueueRepository } from './queue/webhook-queue.repository.js';
import { WebhookService } from './services/webhook.service.js';
import { BatchFinisher } from '../shared/batch/batch-finisher.js';
import { cropStorageFromConfig } from '../shared/storage/crop-storage.factory.js';
import { CropLinkSigner, cropLinkSecrets } from '../shared/storage/crop-link-signer.js';

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
  const pool = await InferencePool.start({
    threadUrl: familyThreadUrl(config.detector.family),
    modelPath: config.detector.modelPath,
    session: config.detector.session,
    threads: config.detector.inferenceThreads,
    onRun: (seconds) => metrics.inference.observe(seconds),
  });
  const decoder = new ImageDecoder({ maxPixels: config.limits.maxImagePixels });
  const detector = new FaceDetectionService(pool, decoder, {
    maxSide: config.detector.maxSide,
    scoreThreshold: config.detector.scoreThreshold,
    nmsIou: config.detector.nmsIou,
    band: config.detector.band,
    scores: config.detector.scores,
  });
  const redis = createRedis(config.redis, 'worker', 'facedetect-worker-blobs');
  const outage = new RedisOutageLog(log, config.redis.display, REDIS_RETRY_INTERVAL_MS);
  redis.on('error', (err) => outage.report(err));
  redis.on('ready', () => outage.recovered());
  const guard = {
    allowPrivateAddresses: config.security.allowPrivateUrls,
    timeoutMs: config.limits.downloadTimeoutMs,
    stallTimeoutMs: config.limits.downloadStallTimeoutMs,
    isAllowedAddress: options.isAllowedAddress,
  };
  const fetcher = new MediaFetcher(guard);
  const storage = cropStorageFromConfig(config, log);
  await storage.init().catch(async (err: unknown) => {
    await pool.close();
    throw err;
  });
  const links = new CropLinkSigner({
    secrets: () =>
      cropLinkSecrets(
        { current: config.storage.linkSecret, previous: config.storage.previousLinkSecret },
        redis,
        config.queuePrefix,
      ),
    ttlS: config.storage.urlTtlS,
    base: config.publicBaseUrl,
  });
  const crops = new CropService(decoder, storage, links);
  const binaries = resolveFfmpegBinaries({
    ffmpegPath: config.video.ffmpegPath,
    ffprobePath: config.video.ffprobePath,
    searchPath: config.video.searchPath,
  });
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
  const video = new VideoDetectionService(pipeline, detector, frames);
  const blobs = new MediaBlobRepository(redis, config.queuePrefix);
  const bitmaps = new BitmapConverter({
    binaries,
    maxPixels: config.limits.maxImagePixels,
    idleTimeoutMs: config.video.idleTimeoutMs,
  });
  const service = new DetectJobService(
    detector,
    decoder,
    bitmaps,
    frames,
    video,
    blobs,
    new MediaSourceService(
      blobs,
      fetcher,
      {
        maxImageBytes: config.limits.maxImageBytes,
        maxVideoBytes: config.limits.maxVideoBytes,
        rangeReadMinBytes: config.limits.rangeReadMinBytes,
        log,
      },
      metrics,
    ),
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
  const webhookQueue = new WebhookQueueRepository(
    { redis: config.redis, prefix: config.queuePrefix, retentionS: config.jobs.resultTtlS, outage },
    log,
  );
  const batches = new BatchFinisher(redis, config.queuePrefix, config.jobs.resultTtlS, webhookQueue);
  const webhooks = new WebhookService(webhookQueue, new WebhookPoster(guard), config.webhookSecret, batches);
  await webhookQueue.start(webhooks.deliver);
  const consumers = new DetectWorkerRepository(
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
  const metricsServer = await startMetricsServer(registry, config.worker.metricsPort, config.host);
  await consumers.start();
  log.info(
    {
      threads: pool.size,
      model: config.detector.modelName,
      family: config.detector.family,
      modelPath: config.detector.modelPath,
      provider: config.detector.session.provider,
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

if (isEntryPoint(import.meta.url)) runMain('worker', start);
