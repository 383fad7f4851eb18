import os from 'node:os';
import { z } from 'zod';
import { MODEL_CHOICES } from '../detectors/model-registry.js';
import { endpointList, redisUrl } from './redis-config.js';

/**
 * Every environment variable the service reads, with its rule and default: the one list, which the
 * config module turns into `Config` and the Kubernetes test checks the manifests against.
 */

const bool = z.stringbool({
  truthy: ['true', '1', 'yes'],
  falsy: ['false', '0', 'no'],
  error: 'must be true or false',
});
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

export const envSchema = z.object({
  NODE_ENV: z.string().default('production'),
  PORT: int(0, 65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  /** Unset: redis://127.0.0.1:6379. Kept undefined here so a deployer's own URL is told from the default. */
  REDIS_URL: redisUrl.optional(),
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
  /** The research models (scrfd_*) are read in place from SHARED_DIR/models; `npm run models` never copies them. */
  SHARED_DIR: z.string().default('../shared'),
  MODEL_NAME: z
    .string()
    .refine((v) => MODEL_CHOICES.includes(v), { message: `must be one of ${MODEL_CHOICES.join(', ')}` })
    .default('yunet_n'),
  /** A model file of the family MODEL_NAME names: a user's own export, which they hold a licence for. */
  MODEL_FILE: z.string().optional(),
  /** Where the model runs. `cuda` needs onnxruntime-node installed with its CUDA provider, and never falls back. */
  INFERENCE_PROVIDER: z.enum(['cpu', 'cuda']).default('cpu'),
  DETECT_MAX_SIDE: int(64, 4096).default(1280),
  /** Unset: the model family's own (0.6 for YuNet, 0.5 for SCRFD). */
  SCORE_THRESHOLD: unit.optional(),
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
  MAX_BATCH_ITEMS: int(1, 1000).default(16),
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

export type Env = z.output<typeof envSchema>;
