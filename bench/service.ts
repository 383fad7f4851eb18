import { loadConfig } from '../shared/config/config.js';
import { deleteKeysWithPrefix } from '../shared/queue/delete-prefix.js';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { freePort, ServiceProcess } from './processes.js';

export interface BenchServiceOptions {
  root: string;
  logDir: string;
  redisUrl: string;
  /** A queue prefix of its own, so the run never meets another deployment's or test's jobs. */
  prefix: string;
  dataDir: string;
  /** Node flags for every process (profiling). */
  nodeArgs?: string[];
}

export interface WorkerSettings {
  inferenceThreads: number;
  imageConcurrency: number;
}

/**
 * The service as deployed without Docker: one gateway and N workers, each its own process, sharing Redis
 * and a queue prefix. Production settings except: loopback URLs allowed (the media is served locally),
 * and a synchronous wait long enough for a 100-frame video.
 */
export class BenchService {
  readonly workers = new Map<string, ServiceProcess>();

  private constructor(
    private readonly options: BenchServiceOptions,
    readonly gateway: ServiceProcess,
    readonly url: string,
  ) {}

  static async start(options: BenchServiceOptions): Promise<BenchService> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const gateway = await ServiceProcess.start({
      name: 'gateway',
      script: 'dist/api/main.js',
      root: options.root,
      logDir: options.logDir,
      nodeArgs: options.nodeArgs,
      env: { ...commonEnv(options), PORT: String(port) },
      // /healthz, not /readyz: the gateway is ready only once a worker takes jobs, and workers start later.
      ready: async () => (await fetch(`${url}/healthz`)).ok,
    });
    return new BenchService(options, gateway, url);
  }

  async startWorker(name: string, settings: WorkerSettings): Promise<ServiceProcess> {
    const worker = await ServiceProcess.start({
      name,
      script: 'dist/worker/main.js',
      root: this.options.root,
      logDir: this.options.logDir,
      nodeArgs: this.options.nodeArgs,
      env: {
        ...commonEnv(this.options),
        WORKER_NAME: name,
        WORKER_METRICS_PORT: '0',
        INFERENCE_THREADS: String(settings.inferenceThreads),
        IMAGE_CONCURRENCY: String(settings.imageConcurrency),
      },
      // The worker's own start line, then the gateway's view: jobs are taken (its /readyz counts workers).
      ready: async (proc) =>
        proc.log().includes('"msg":"worker ready"') && (await fetch(`${this.url}/readyz`)).ok,
    });
    this.workers.set(name, worker);
    return worker;
  }

  async stopWorker(name: string): Promise<void> {
    await this.workers.get(name)?.stop();
    this.workers.delete(name);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.workers.keys()].map((name) => this.stopWorker(name)));
    await this.gateway.stop();
    await deleteKeysWithPrefix(
      loadConfig({ REDIS_URL: this.options.redisUrl }).redis,
      `{${this.options.prefix}}`,
    );
    await rm(this.options.dataDir, { recursive: true, force: true });
  }
}

function commonEnv(options: BenchServiceOptions): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    REDIS_URL: options.redisUrl,
    QUEUE_PREFIX: options.prefix,
    MODELS_DIR: path.join(options.root, 'models'),
    DATA_DIR: options.dataDir,
    ALLOW_PRIVATE_URLS: 'true',
    SYNC_TIMEOUT_MS: '600000',
    // The load comes from one address, faster than a client's fair share: the bench measures the
    // pipeline, not the limiter.
    RATE_LIMIT_PER_MIN: '1000000',
  };
}
