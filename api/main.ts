import type { AddressInfo } from 'node:net';
import http, { type Server } from 'node:http';
import { loadConfig, type Config } from '../shared/config/config.js';
import { createLogger, type Logger } from '../shared/logging/logger.js';
import { MediaBlobRepository } from '../shared/queue/media-blob.repository.js';
import { watchRedisOutages } from '../shared/queue/redis-outage-log.js';
import { isEntryPoint, runMain } from '../shared/process/run-main.js';
import type { Express } from 'express';
import type { Registry } from 'prom-client';
import { createApp, type AppDeps } from './app.js';
import { publicBase } from './controllers/public-url.js';
import { createRegistry, GatewayMetrics } from '../shared/metrics/metrics.js';
import { startMetricsServer, type MetricsServer } from '../shared/metrics/metrics-server.js';
import { UrlGuard } from '../shared/net/url-guard.js';
import { QUEUES, type QueueKind } from '../shared/contract/detect-job.contract.js';
import type { CropStorage } from '../shared/storage/crop-storage.js';
import { cropLinkSignerFromConfig, cropStorageFromConfig } from '../shared/storage/crop-storage.factory.js';
import { LocalCropStorage } from '../shared/storage/local-crop-storage.repository.js';
import { DetectQueueRepository } from './repositories/detect-queue.repository.js';
import { RateLimitRepository } from './repositories/rate-limit.repository.js';
import { DetectService } from './services/detect.service.js';
import { BatchService } from './services/batch.service.js';
import { BatchRecordsRepository } from './repositories/batch-records.repository.js';
import { BatchFinisher } from '../shared/batch/batch-finisher.js';
import { WebhookOutbox } from '../shared/queue/webhook-outbox.js';
import { JobStatusService } from './services/job-status.service.js';
import { NotReadyError, type ReadinessCheck } from './readiness.js';
import { gracefulClose } from './graceful-close.js';

export interface ApiHandle {
  port: number;
  /** Port of the gateway's GET /metrics (GATEWAY_METRICS_PORT). */
  metricsPort: number;
  server: Server;
  log: Logger;
  queue: DetectQueueRepository;
  stop(): Promise<void>;
}

export interface ApiStartOptions {
  config?: Config;
  log?: Logger;
  /** Extra readiness checks (the all-in-one process adds its worker child's). */
  readiness?: Record<string, ReadinessCheck>;
}

const BLOB_TTL_S = 3600;

/** Starts the gateway. Redis may be down at start: the gateway serves anyway and answers 503 until it is back. */
export async function start(options: ApiStartOptions = {}): Promise<ApiHandle> {
  const config = options.config ?? loadConfig();
  const log = options.log ?? createLogger(config.logLevel, 'api');
  if (!config.apiKeys)
    log.warn('API_KEYS is not set: authentication is OFF and anyone who reaches this port can use it');

  const queue = await connectQueue(config, log);
  const storage = cropStorageFromConfig(config, log);
  // A local store is swept by the gateway too; a bucket is the workers' to create.
  if (storage instanceof LocalCropStorage) await storage.init();
  const registry = createRegistry();
  // A batch's callback is queued here when its last item to end was refused at this gateway. The shared
  // connection's outages are logged once per interval by connectQueue, so the queue's echo of them is not.
  const outbox = new WebhookOutbox(
    queue.redis,
    { prefix: config.queuePrefix, retentionS: config.jobs.resultTtlS },
    () => undefined,
  );
  // The listening address stands in for PUBLIC_BASE_URL; it is known only once the server listens.
  let listenBase = '';
  const app = createApp({
    ...requestLimits(config),
    ...gatewayServices(config, queue, outbox),
    metrics: gatewayMetrics(registry, queue),
    log,
    apiKeys: config.apiKeys,
    publicBase: publicBase({
      configured: config.publicBaseUrl,
      trustProxy: config.trustProxy !== undefined,
      listening: () => listenBase,
    }),
    trustProxy: config.trustProxy,
    crops: storage,
    cropLinks: cropLinkSignerFromConfig(config, queue.redis),
    readiness: {
      redis: () => queue.ping(),
      storage: () => storage.check(),
      workers: () => workersConnected(queue),
      ...options.readiness,
    },
  });
  const server = await listen(config, app);
  const port = (server.address() as AddressInfo).port;
  listenBase = listeningBase(config.host, port);
  const metricsServer = await startMetricsServer(registry, config.gatewayMetricsPort, config.host).catch(
    (err: unknown) => {
      server.close();
      throw err;
    },
  );
  if (config.apiKeys && !config.publicBaseUrl) {
    log.warn(
      { base: listenBase },
      'PUBLIC_BASE_URL is not set: status and crop URLs point at the address the gateway listens on; set it to the URL clients use',
    );
  }
  log.info({ port }, 'gateway listening');
  return apiHandle({ port, server, metricsServer, log, queue, storage, outbox });
}

/** The running gateway, and its stop: requests in flight first, then the metrics, the queues, the store. */
function apiHandle(parts: {
  port: number;
  server: Server;
  metricsServer: MetricsServer;
  log: Logger;
  queue: DetectQueueRepository;
  storage: CropStorage;
  outbox: WebhookOutbox;
}): ApiHandle {
  const { port, server, metricsServer, log, queue, storage, outbox } = parts;
  const close = gracefulClose(server);
  let stopped: Promise<void> | undefined;
  return {
    port,
    metricsPort: metricsServer.port,
    server,
    log,
    queue,
    stop() {
      // Once only: a caller that stopped the gateway early may still run its usual cleanup, which stops it
      // again.
      stopped ??= (async () => {
        // Requests in flight finish first: their waits are bounded by SYNC_TIMEOUT_MS.
        await close();
        metricsServer.server.close();
        await outbox.close();
        await queue.close();
        await storage.close();
      })();
      return stopped;
    },
  };
}

/** The queues, with the gateway's Redis outages logged once per retry interval. */
async function connectQueue(config: Config, log: Logger): Promise<DetectQueueRepository> {
  const queue = await DetectQueueRepository.connect({
    redis: config.redis,
    prefix: config.queuePrefix,
    attempts: config.jobs.attempts,
    backoffMs: config.jobs.backoffMs,
    resultTtlS: config.jobs.resultTtlS,
  });
  watchRedisOutages(queue.redis, log, config.redis.display);
  return queue;
}

/** The byte and item limits the app holds requests to. */
function requestLimits(
  config: Config,
): Pick<AppDeps, 'maxBodyBytes' | 'maxImageBytes' | 'maxInFlightBodyBytes' | 'maxBatchItems'> {
  return {
    maxBodyBytes: config.limits.maxBodyBytes,
    maxImageBytes: config.limits.maxImageBytes,
    maxInFlightBodyBytes: config.limits.maxInFlightBodyBytes,
    maxBatchItems: config.limits.maxBatchItems,
  };
}

/** The services behind the routes: detection, batches, job status, and the rate limit's counters. */
function gatewayServices(
  config: Config,
  queue: DetectQueueRepository,
  outbox: WebhookOutbox,
): Pick<AppDeps, 'detect' | 'batch' | 'jobs' | 'rateLimiter'> {
  const urls = new UrlGuard({ allowPrivateAddresses: config.security.allowPrivateUrls });
  const detect = new DetectService(queue, new MediaBlobRepository(queue.redis, config.queuePrefix), urls, {
    syncTimeoutMs: config.jobs.syncTimeoutMs,
    maxImageBytes: config.limits.maxImageBytes,
    blobTtlS: BLOB_TTL_S,
    maxQueueDepth: config.limits.maxQueueDepth,
    autoRotate: config.detector.autoRotate,
  });
  const ttlS = config.jobs.resultTtlS;
  return {
    detect,
    batch: new BatchService(
      detect,
      queue,
      new BatchRecordsRepository(queue.redis, config.queuePrefix, ttlS),
      ttlS,
      { finisher: new BatchFinisher(queue.redis, config.queuePrefix, ttlS, outbox), urls },
    ),
    jobs: new JobStatusService(queue, ttlS),
    rateLimiter: new RateLimitRepository(queue.redis, config.queuePrefix, {
      limit: config.limits.rateLimitPerMin,
    }),
  };
}

/** The gateway's metrics, with each queue's job counts by state read at every scrape. */
function gatewayMetrics(registry: Registry, queue: DetectQueueRepository): GatewayMetrics {
  return new GatewayMetrics(registry, async () => {
    const rows = [];
    for (const kind of Object.keys(QUEUES) as QueueKind[]) {
      const counts = await queue.jobCounts(kind);
      for (const [state, count] of Object.entries(counts)) rows.push({ queue: QUEUES[kind], state, count });
    }
    return rows;
  });
}

/** The HTTP server of `app`, listening on HOST:PORT. */
async function listen(config: Config, app: Express): Promise<Server> {
  // A client that sends its headers or body slowly, or not at all, is cut at these limits (checked every
  // second, not at Node's default 30 s granularity) instead of holding its connection and buffer.
  const server = http.createServer(
    {
      headersTimeout: config.limits.headersTimeoutMs,
      requestTimeout: config.limits.bodyTimeoutMs,
      connectionsCheckingInterval: 1000,
    },
    app,
  );
  // Node would answer `Expect: 100-continue` itself, before any check; the app sends it once the request
  // has passed authentication and its limits, so a refused client never sends its body.
  server.on('checkContinue', app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  return server;
}

/**
 * Ready only while some worker process takes jobs from every queue: without one, requests would be queued
 * and never answered. The count is of worker processes serving every queue.
 */
async function workersConnected(queue: DetectQueueRepository): Promise<{ count: number }> {
  const counts = await queue.workerCounts();
  const count = Math.min(...Object.values(counts));
  if (count === 0) {
    const idle = (Object.keys(counts) as QueueKind[]).filter((kind) => counts[kind] === 0);
    throw new NotReadyError(`No worker takes jobs from ${idle.map((kind) => QUEUES[kind]).join(', ')}`, 0);
  }
  return { count };
}

if (isEntryPoint(import.meta.url)) runMain('gateway', start);

/** `http://<host>:<port>` of the listening socket; a wildcard address is reached as localhost. */
function listeningBase(host: string, port: number): string {
  const name =
    host === '0.0.0.0' || host === '::' || host === ''
      ? 'localhost'
      : host.includes(':')
        ? `[${host}]`
        : host;
  return `http://${name}:${port}`;
}
