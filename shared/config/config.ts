import path from 'node:path';
import { z } from 'zod';
import { DETECTOR_FAMILIES } from '../detectors/detector-families.js';
import { resolveModel, type ResolvedModel } from '../detectors/model-registry.js';
import { envSchema, type Env } from './env-schema.js';
import { redisSettings, type RedisSettings } from './redis-config.js';

/**
 * The one place that reads the environment. `loadConfig` validates every variable at start and throws a
 * ConfigError naming each bad one, so a misconfigured process stops before it serves anything. `Config` is
 * what `configSchema` makes of the variables, so a setting is written down once, in `env-schema.ts`, and
 * once here where it takes its place.
 */

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

const configSchema = envSchema.transform((e, ctx) => {
  const problems = crossChecks(e);
  const model = resolveModel(
    { name: e.MODEL_NAME, file: e.MODEL_FILE },
    { models: e.MODELS_DIR, shared: e.SHARED_DIR },
  );
  if (typeof model === 'string') problems.push(model);
  const redis = redisSettings(
    { ...e, REDIS_URL: e.REDIS_URL ?? DEFAULT_REDIS_URL },
    e.REDIS_URL !== undefined,
    problems,
  );
  for (const message of problems) ctx.issues.push({ code: 'custom', message, input: e, path: [] });
  if (problems.length > 0 || !redis || typeof model === 'string') return z.NEVER;
  return toConfig(e, redis, model);
});

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((i) =>
      i.path.length === 0
        ? i.message
        : `${i.path.join('.')}=${JSON.stringify(raw[String(i.path[0])])}: ${i.message}`,
    ),
  );
}

/** Rules between variables, each problem naming the variables it is about. */
function crossChecks(e: Env): string[] {
  const problems: string[] = [];
  if (e.S3_ENDPOINT && (!e.S3_ACCESS_KEY || !e.S3_SECRET_KEY)) {
    problems.push('S3_ACCESS_KEY/S3_SECRET_KEY: both are required when S3_ENDPOINT is set');
  }
  if (e.HEADERS_TIMEOUT_MS > e.BODY_TIMEOUT_MS) {
    problems.push(
      `HEADERS_TIMEOUT_MS=${e.HEADERS_TIMEOUT_MS}: must not exceed BODY_TIMEOUT_MS (${e.BODY_TIMEOUT_MS}), which bounds the whole request`,
    );
  }
  return problems;
}

function toConfig(e: Env, redis: RedisSettings, model: ResolvedModel) {
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    /** The gateway's GET /metrics, on a port of its own: metrics are not served on the public port. */
    gatewayMetricsPort: e.GATEWAY_METRICS_PORT,
    host: e.HOST,
    redis,
    /**
     * QUEUE_PREFIX in braces, `{facedetect}`: the start of every key the service writes. The braces make it
     * a Redis Cluster hash tag, so all keys share one slot and multi-key commands never cross slots.
     */
    queuePrefix: `{${e.QUEUE_PREFIX}}`,
    /**
     * Base of the absolute URLs the gateway hands out (status and crop URLs). Unset: the forwarded scheme and
     * host behind a trusted proxy, else the address the gateway listens on; never the request's Host header.
     */
    publicBaseUrl: e.PUBLIC_BASE_URL?.replace(/\/+$/, ''),
    /** Express's `trust proxy`: which proxies' X-Forwarded-* headers are believed; undefined believes none. */
    trustProxy: trustProxySetting(e.TRUST_PROXY),
    /** Accepted API keys; `undefined` turns authentication off. */
    apiKeys: e.API_KEYS && e.API_KEYS.length > 0 ? e.API_KEYS : undefined,
    logLevel: e.LOG_LEVEL,
    jobs: {
      syncTimeoutMs: e.SYNC_TIMEOUT_MS,
      resultTtlS: e.RESULT_TTL_S,
      attempts: e.JOB_ATTEMPTS,
      backoffMs: e.JOB_BACKOFF_MS,
    },
    detector: detectorSettings(e, model),
    storage: storageSettings(e),
    video: {
      ffmpegPath: e.FFMPEG_PATH,
      ffprobePath: e.FFPROBE_PATH,
      /** Where a system ffmpeg is looked for (the process's PATH). */
      searchPath: e.PATH,
      /** An ffmpeg or ffprobe that produces no output for this long is killed. */
      idleTimeoutMs: e.FFMPEG_TIMEOUT_MS,
      /** Longest one video job may take. */
      jobTimeoutMs: e.VIDEO_TIMEOUT_MS,
    },
    /** HMAC key signing callback_url deliveries; undefined sends them unsigned. */
    webhookSecret: e.WEBHOOK_SECRET,
    /** allowPrivateUrls lets URLs reach private and loopback addresses: for development and tests only. */
    security: { allowPrivateUrls: e.ALLOW_PRIVATE_URLS },
    worker: {
      name: e.WORKER_NAME,
      imageConcurrency: e.IMAGE_CONCURRENCY,
      videoConcurrency: e.VIDEO_CONCURRENCY,
      metricsPort: e.WORKER_METRICS_PORT,
      /** A worker that dies mid-job holds its jobs this long before another may take them. */
      lockDurationMs: e.WORKER_LOCK_DURATION_MS,
      /** How often workers look for jobs whose worker died. */
      stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS,
    },
    limits: limitSettings(e),
  };
}

/** The model, its family's band and scores, onnxruntime's session and the search's settings. */
function detectorSettings(e: Env, model: ResolvedModel) {
  return {
    modelName: model.name,
    family: model.family,
    modelPath: model.path,
    /** The face sizes one pass of this family's model sees well, for the scale plan. */
    band: DETECTOR_FAMILIES[model.family].band,
    scores: DETECTOR_FAMILIES[model.family].scores,
    landmarkViews: DETECTOR_FAMILIES[model.family].landmarkViews,
    /** onnxruntime's settings for every session, whatever the model. */
    session: { provider: e.INFERENCE_PROVIDER, graphOptimizationLevel: 'all' as const, intraOpThreads: 1 },
    maxSide: e.DETECT_MAX_SIDE,
    scoreThreshold: e.SCORE_THRESHOLD ?? DETECTOR_FAMILIES[model.family].scores.threshold,
    nmsIou: e.NMS_IOU,
    /** Requests without `auto_rotate` search every quarter turn of the picture. */
    autoRotate: e.AUTO_ROTATE,
    inferenceThreads: e.INFERENCE_THREADS,
  };
}

/** Where crops are kept, and how their links are signed. */
function storageSettings(e: Env) {
  return {
    /** S3-compatible store for crops; undefined keeps them on local disk under `dataDir`. */
    s3: e.S3_ENDPOINT
      ? {
          endpoint: e.S3_ENDPOINT,
          port: e.S3_PORT,
          useSSL: e.S3_USE_SSL,
          accessKey: e.S3_ACCESS_KEY ?? '',
          secretKey: e.S3_SECRET_KEY ?? '',
          bucket: e.S3_BUCKET,
          region: e.S3_REGION,
        }
      : undefined,
    dataDir: path.resolve(e.DATA_DIR),
    urlTtlS: e.CROP_URL_TTL_S,
    /**
     * Secrets crop links are signed with: the current one, then the previous one, still accepted during a
     * rotation. Undefined: a secret kept in Redis, shared by the deployment's processes.
     */
    linkSecret: e.CROP_URL_SECRET,
    previousLinkSecret: e.CROP_URL_SECRET_PREVIOUS,
    uploadConcurrency: e.CROP_UPLOAD_CONCURRENCY,
  };
}

/** Every bound on a request, a download, a picture or a queue. */
function limitSettings(e: Env) {
  return {
    maxBodyBytes: e.MAX_BODY_BYTES,
    /** Items in one POST /detect/batch; 400 beyond. */
    maxBatchItems: e.MAX_BATCH_ITEMS,
    /** Request bodies received at once, all connections together; 503 beyond. */
    maxInFlightBodyBytes: e.MAX_INFLIGHT_BODY_BYTES,
    /** A request whose body has not fully arrived this long after it started is cut (408). */
    bodyTimeoutMs: e.BODY_TIMEOUT_MS,
    /** A request whose headers have not fully arrived this long after it started is cut. */
    headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
    maxImageBytes: e.MAX_IMAGE_BYTES,
    maxVideoBytes: e.MAX_VIDEO_BYTES,
    maxImagePixels: e.MAX_IMAGE_PIXELS,
    /** Largest video frame, coded or displayed, checked on the stream header before decoding. */
    maxVideoPixels: e.MAX_VIDEO_PIXELS,
    /** Most frames a video may have, by its packets or its header's claim. */
    maxVideoFrames: e.MAX_VIDEO_FRAMES,
    /**
     * Videos at least this large, from an origin that serves byte ranges, are read by range: only what the
     * sampled frames need. Smaller ones are downloaded whole.
     */
    rangeReadMinBytes: e.RANGE_READ_MIN_BYTES,
    downloadTimeoutMs: e.DOWNLOAD_TIMEOUT_MS,
    /** A download that receives nothing for this long fails. */
    downloadStallTimeoutMs: e.DOWNLOAD_STALL_TIMEOUT_MS,
    /** Waiting jobs per queue beyond which new requests are refused with 503. */
    maxQueueDepth: e.MAX_QUEUE_DEPTH,
    /** Requests per client (API key, or IP without authentication) per minute, across all gateways. */
    rateLimitPerMin: e.RATE_LIMIT_PER_MIN,
  };
}

function trustProxySetting(value: string | undefined): string | number | boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}
