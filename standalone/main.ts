import { fileURLToPath } from 'node:url';
import { loadConfig } from '../shared/config/config.js';
import { createLogger, type Logger } from '../shared/logging/logger.js';
import { isEntryPoint, runMain } from '../shared/process/run-main.js';
import { start as startApi } from '../api/main.js';
import { NotReadyError } from '../api/readiness.js';
import { resolveBinary } from '../worker/video/ffmpeg-binaries.js';
import { answers, EmbeddedRedis } from './embedded-redis.js';
import { WorkerSupervisor } from './worker-supervisor.js';

export interface StandaloneStartOptions {
  /** The environment both processes read their configuration from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

const WORKER_ENTRY = fileURLToPath(new URL('../worker/main.js', import.meta.url));

export const REDIS_MISSING =
  'Redis is not running on 127.0.0.1:6379 and redis-server is not installed: install it (apt-get install -y redis-server), or set REDIS_URL to the Redis to use';
const REDIS_TOPOLOGY_VARS = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'];
const PROBE_TIMEOUT_MS = 1000;

/**
 * Gateway and worker on one machine (`npm start`), no setup beyond installing Redis. The worker runs as a supervised
 * child process: whatever kills it (a decoder crash, memory) leaves the gateway serving, and /readyz says
 * the worker is down until its restart is ready.
 */
export async function start(options: StandaloneStartOptions = {}) {
  const given = options.env ?? process.env;
  const first = loadConfig(given);
  const log = createLogger(first.logLevel, 'facedetect');
  const redis = await ensureRedis(given, first.storage.dataDir, log);
  const env = redis ? { ...given, REDIS_URL: redis.url } : given;
  const config = loadConfig(env);
  const worker = new WorkerSupervisor({
    entry: WORKER_ENTRY,
    env,
    log: log.child({ component: 'supervisor' }),
  });
  await worker.start().catch(async (err: unknown) => {
    await redis?.stop();
    throw err;
  });
  // Ready while the child runs with its model loaded in its inference threads.
  const workerCheck = () => {
    const state = worker.state;
    return state.up
      ? Promise.resolve({ count: state.threads })
      : Promise.reject(new NotReadyError(`The worker is down: ${state.reason}; it is being restarted`, 0));
  };
  const api = await startApi({
    config,
    log: log.child({ component: 'api' }),
    readiness: { worker: workerCheck },
  }).catch(async (err: unknown) => {
    await worker.stop();
    await redis?.stop();
    throw err;
  });
  return {
    log,
    api,
    worker,
    async stop() {
      worker.expectExit();
      try {
        await api.stop();
        await worker.stop();
      } finally {
        await redis?.stop();
      }
    },
  };
}

/**
 * The embedded default: with no Redis named and none answering on its default address, a private one is
 * started when redis-server is installed, and the start fails at once with what to do when it is not.
 */
async function ensureRedis(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  log: Logger,
): Promise<EmbeddedRedis | undefined> {
  if (REDIS_TOPOLOGY_VARS.some((name) => env[name])) return undefined;
  if (await answers('127.0.0.1', 6379, PROBE_TIMEOUT_MS)) return undefined;
  const binary = resolveBinary('redis-server', undefined, env.PATH, () => {
    throw new Error(REDIS_MISSING);
  });
  return EmbeddedRedis.start({ binary, dataDir, log: log.child({ component: 'redis' }) });
}

if (isEntryPoint(import.meta.url)) runMain('facedetect', start);
