import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { endpointList, redisSettings, redisUrl, type RedisSettings } from './redis-config.js';

/**
 * The one place that reads the environment. `loadConfig` validates every variable at start and throws a
 * ConfigError naming each bad one, so a misconfigured process stops before it serves anything.
 */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int({ message: 'must be an integer' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` });
const unit = z.coerce.number({ message: 'must be a number' }).min(0).max(1);
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
);

const envSchema = z.object({
  NODE_ENV: z.string().default('production'),
  PORT: int(0, 65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  REDIS_URL: redisUrl.default('redis://127.0.0.1:6379'),
  REDIS_CLUSTER_NODES: endpointList.optional(),
  REDIS_SENTINELS: endpointList.optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).optional(),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  REDIS_USERNAME: z.string().optional(),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_TLS: bool.default(false),
  REDIS_CA_FILE: z.string().optional(),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[^{}]+$/, {
      message: 'must not contain braces: the service adds them (a Redis Cluster hash tag)',
    })
    .default('facedetect'),
  PUBLIC_BASE_URL: z.url({ message: 'must be an absolute URL such as https://faces.example.com' }).optional(),
  TRUST_PROXY: z
    .string()
    .regex(
      /^(\d{1,2}|true|(loopback|linklocal|uniquelocal|[0-9a-fA-F.:/]+)(\s*,\s*(loopback|linklocal|uniquelocal|[0-9a-fA-F.:/]+))*)$/,
      {
        message:
          "must be Express's 'trust proxy': proxy addresses or CIDRs, loopback, linklocal, uniquelocal (comma-separated), a hop count, or true",
      },
    )
    .optional(),
  API_KEYS: list.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  SYNC_TIMEOUT_MS: int(0, 600_000).default(30_000),
  RESULT_TTL_S: int(1).default(86_400),
  JOB_ATTEMPTS: int(1, 20).default(3),
  JOB_BACKOFF_MS: int(0).default(1000),
  MAX_QUEUE_DEPTH: int(1).default(1000),
  RATE_LIMIT_PER_MIN: int(1).default(600),

  MODELS_DIR: z.string().default('models'),
  MODEL_NAME: z.enum(['yunet_n', 'yunet_s']).default('yunet_n'),
  DETECT_MAX_SIDE: int(64, 4096).default(1280),
  SCORE_THRESHOLD: unit.default(0.6),
  NMS_IOU: unit.default(0.3),
  AUTO_ROTATE: bool.default(true),
  INFERENCE_THREADS: int(1, 64).default(Math.max(1, Math.min(4, os.availableParallelism()))),
  IMAGE_CONCURRENCY: int(1, 256).default(4),
  VIDEO_CONCURRENCY: int(1, 64).default(1),
  WORKER_METRICS_PORT: int(0, 65535).default(9100),
  GATEWAY_METRICS_PORT: int(0, 65535).default(9101),
  WORKER_NAME: z.string().min(1).default(`${os.hostname()}:${process.pid}`),
  WORKER_LOCK_DURATION_MS: int(1000).default(30_000),
  WORKER_STALLED_INTERVAL_MS: int(1000).default(30_000),

  MAX_BODY_BYTES: int(1024).default(20 * 1024 * 1024),
  MAX_INFLIGHT_BODY_BYTES: int(1024).default(200 * 1024 * 1024),
  BODY_TIMEOUT_MS: int(100).default(30_000),
  HEADERS_TIMEOUT_MS: int(100).default(10_000),
  MAX_IMAGE_BYTES: int(1024).default(15 * 1024 * 1024),
  MAX_VIDEO_BYTES: int(1024).default(500 * 1024 * 1024),
  MAX_IMAGE_PIXELS: int(1).default(40_000_000),
  MAX_VIDEO_PIXELS: int(1).default(4096 * 4096),
  MAX_VIDEO_FRAMES: int(1).default(300_000),
  RANGE_READ_MIN_BYTES: int(0).default(16 * 1024 * 1024),
  DOWNLOAD_TIMEOUT_MS: int(100).default(30_000),
  DOWNLOAD_STALL_TIMEOUT_MS: int(100).default(10_000),
  ALLOW_PRIVATE_URLS: bool.default(false),
  FFMPEG_PATH: z.string().min(1).optional(),
  FFPROBE_PATH: z.string().min(1).optional(),
  FFMPEG_TIMEOUT_MS: int(100).default(60_000),
  VIDEO_TIMEOUT_MS: int(1000).default(600_000),
  PATH: z.string().default(''),
  WEBHOOK_SECRET: z.string().min(16, { message: 'must be at least 16 characters' }).optional(),

  S3_ENDPOINT: z
    .string()
    .regex(/^[A-Za-z0-9.-]+$/, {
      message: 'must be a host name only (no scheme or port): use S3_PORT and S3_USE_SSL',
    })
    .optional(),
  S3_PORT: int(1, 65535).optional(),
  S3_USE_SSL: bool.default(true),
  S3_ACCESS_KEY: z.string().optional(),
  S3_SECRET_KEY: z.string().optional(),
  S3_BUCKET: z.string().min(3).default('faces'),
  S3_REGION: z.string().default('us-east-1'),
  CROP_URL_TTL_S: int(1).default(604_800),
  CROP_URL_SECRET: z.string().min(32, { message: 'must be at least 32 characters' }).optional(),
  CROP_URL_SECRET_PREVIOUS: z.string().min(32, { message: 'must be at least 32 characters' }).optional(),
  CROP_UPLOAD_CONCURRENCY: int(1, 64).default(4),
  DATA_DIR: z.string().default('data'),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  nodeEnv: string;
  port: number;
  /** The gateway's GET /metrics, on a port of its own: metrics are not served on the public port. */
  gatewayMetricsPort: number;
  host: string;
  redis: RedisSettings;
  /**
   * QUEUE_PREFIX in braces, `{facedetect}`: the start of every key the service writes. The braces make it
   * a Redis Cluster hash tag, so all keys share one slot and multi-key commands never cross slots.
   */
  queuePrefix: string;
  /**
   * Base of the absolute URLs the gateway hands out (status and crop URLs). Unset: the forwarded scheme and
   * host behind a trusted proxy, else the address the gateway listens on; never the request's Host header.
   */
  publicBaseUrl: string | undefined;
  /** Express's `trust proxy`: which proxies' X-Forwarded-* headers are believed; undefined believes none. */
  trustProxy: string | number | boolean | undefined;
  /** Accepted API keys; `undefined` turns authentication off. */
  apiKeys: string[] | undefined;
  logLevel: Env['LOG_LEVEL'];
  jobs: { syncTimeoutMs: number; resultTtlS: number; attempts: number; backoffMs: number };
  detector: {
    modelPath: string;
    maxSide: number;
    scoreThreshold: number;
    nmsIou: number;
    /** Requests without `auto_rotate` search every quarter turn of the picture. */
    autoRotate: boolean;
    inferenceThreads: number;
  };
  storage: {
    /** S3-compatible store for crops; undefined keeps them on local disk under `dataDir`. */
    s3?: {
      endpoint: string;
      port?: number;
      useSSL: boolean;
      accessKey: string;
      secretKey: string;
      bucket: string;
      region: string;
    };
    dataDir: string;
    urlTtlS: number;
    /**
     * Secrets crop links are signed with: the current one, then the previous one, still accepted during a
     * rotation. Undefined: a secret kept in Redis, shared by the deployment's processes.
     */
    linkSecret: string | undefined;
    previousLinkSecret: string | undefined;
    uploadConcurrency: number;
  };
  video: {
    ffmpegPath?: string;
    ffprobePath?: string;
    /** Where a system ffmpeg is looked for (the process's PATH). */
    searchPath: string;
    /** An ffmpeg or ffprobe that produces no output for this long is killed. */
    idleTimeoutMs: number;
    /** Longest one video job may take. */
    jobTimeoutMs: number;
  };
  /** HMAC key signing callback_url deliveries; undefined sends them unsigned. */
  webhookSecret: string | undefined;
  security: {
    /** Lets URLs reach private and loopback addresses: for development and tests only. */
    allowPrivateUrls: boolean;
  };
  worker: {
    name: string;
    imageConcurrency: number;
    videoConcurrency: number;
    metricsPort: number;
    /** A worker that dies mid-job holds its jobs this long before another may take them. */
    lockDurationMs: number;
    /** How often workers look for jobs whose worker died. */
    stalledIntervalMs: number;
  };
  limits: {
    maxBodyBytes: number;
    /** Request bodies received at once, all connections together; 503 beyond. */
    maxInFlightBodyBytes: number;
    /** A request whose body has not fully arrived this long after it started is cut (408). */
    bodyTimeoutMs: number;
    /** A request whose headers have not fully arrived this long after it started is cut. */
    headersTimeoutMs: number;
    maxImageBytes: number;
    maxVideoBytes: number;
    maxImagePixels: number;
    /** Largest video frame, coded or displayed, checked on the stream header before decoding. */
    maxVideoPixels: number;
    /** Most frames a video may have, by its packets or its header's claim. */
    maxVideoFrames: number;
    /**
     * Videos at least this large, from an origin that serves byte ranges, are read by range: only what the
     * sampled frames need. Smaller ones are downloaded whole.
     */
    rangeReadMinBytes: number;
    downloadTimeoutMs: number;
    /** A download that receives nothing for this long fails. */
    downloadStallTimeoutMs: number;
    /** Waiting jobs per queue beyond which new requests are refused with 503. */
    maxQueueDepth: number;
    /** Requests per client (API key, or IP without authentication) per minute, across all gateways. */
    rateLimitPerMin: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map(
        (i) => `${i.path.join('.')}=${JSON.stringify(raw[String(i.path[0])])}: ${i.message}`,
      ),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.S3_ENDPOINT && (!e.S3_ACCESS_KEY || !e.S3_SECRET_KEY)) {
    problems.push('S3_ACCESS_KEY/S3_SECRET_KEY: both are required when S3_ENDPOINT is set');
  }
  if (e.HEADERS_TIMEOUT_MS > e.BODY_TIMEOUT_MS) {
    problems.push(
      `HEADERS_TIMEOUT_MS=${e.HEADERS_TIMEOUT_MS}: must not exceed BODY_TIMEOUT_MS (${e.BODY_TIMEOUT_MS}), which bounds the whole request`,
    );
  }
  const redis = redisSettings(e, raw.REDIS_URL !== undefined, problems);
  if (problems.length > 0 || !redis) throw new ConfigError(problems);
  const modelFile = e.MODEL_NAME === 'yunet_n' ? 'yunet_n_dynamic.onnx' : 'yunet_s_dynamic.onnx';
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    gatewayMetricsPort: e.GATEWAY_METRICS_PORT,
    host: e.HOST,
    redis,
    queuePrefix: `{${e.QUEUE_PREFIX}}`,
    publicBaseUrl: e.PUBLIC_BASE_URL?.replace(/\/+$/, ''),
    trustProxy: trustProxySetting(e.TRUST_PROXY),
    apiKeys: e.API_KEYS && e.API_KEYS.length > 0 ? e.API_KEYS : undefined,
    logLevel: e.LOG_LEVEL,
    jobs: {
      syncTimeoutMs: e.SYNC_TIMEOUT_MS,
      resultTtlS: e.RESULT_TTL_S,
      attempts: e.JOB_ATTEMPTS,
      backoffMs: e.JOB_BACKOFF_MS,
    },
    detector: {
      modelPath: path.resolve(e.MODELS_DIR, modelFile),
      maxSide: e.DETECT_MAX_SIDE,
      scoreThreshold: e.SCORE_THRESHOLD,
      nmsIou: e.NMS_IOU,
      autoRotate: e.AUTO_ROTATE,
      inferenceThreads: e.INFERENCE_THREADS,
    },
    storage: {
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
      linkSecret: e.CROP_URL_SECRET,
      previousLinkSecret: e.CROP_URL_SECRET_PREVIOUS,
      uploadConcurrency: e.CROP_UPLOAD_CONCURRENCY,
    },
    video: {
      ffmpegPath: e.FFMPEG_PATH,
      ffprobePath: e.FFPROBE_PATH,
      searchPath: e.PATH,
      idleTimeoutMs: e.FFMPEG_TIMEOUT_MS,
      jobTimeoutMs: e.VIDEO_TIMEOUT_MS,
    },
    webhookSecret: e.WEBHOOK_SECRET,
    security: { allowPrivateUrls: e.ALLOW_PRIVATE_URLS },
    worker: {
      name: e.WORKER_NAME,
      imageConcurrency: e.IMAGE_CONCURRENCY,
      videoConcurrency: e.VIDEO_CONCURRENCY,
      metricsPort: e.WORKER_METRICS_PORT,
      lockDurationMs: e.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS,
    },
    limits: {
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxInFlightBodyBytes: e.MAX_INFLIGHT_BODY_BYTES,
      bodyTimeoutMs: e.BODY_TIMEOUT_MS,
      headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
      maxImageBytes: e.MAX_IMAGE_BYTES,
      maxVideoBytes: e.MAX_VIDEO_BYTES,
      maxImagePixels: e.MAX_IMAGE_PIXELS,
      maxVideoPixels: e.MAX_VIDEO_PIXELS,
      maxVideoFrames: e.MAX_VIDEO_FRAMES,
      rangeReadMinBytes: e.RANGE_READ_MIN_BYTES,
      downloadTimeoutMs: e.DOWNLOAD_TIMEOUT_MS,
      downloadStallTimeoutMs: e.DOWNLOAD_STALL_TIMEOUT_MS,
      maxQueueDepth: e.MAX_QUEUE_DEPTH,
      rateLimitPerMin: e.RATE_LIMIT_PER_MIN,
    },
  };
}

function trustProxySetting(value: string | undefined): string | number | boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}
