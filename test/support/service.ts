import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { deleteKeysWithPrefix } from '../../shared/queue/delete-prefix.js';
import { loadConfig, type Config } from '../../shared/config/config.js';
import { start as startApi, type ApiHandle } from '../../api/main.js';
import { start as startWorker, type WorkerHandle } from '../../worker/main.js';

export interface TestService {
  url: string;
  config: Config;
  /** The environment behind `config`, for child processes of the same deployment. */
  env: Record<string, string>;
  api: ApiHandle;
  worker?: WorkerHandle;
  stop(): Promise<void>;
}

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Config for a test: port 0, silent logs, loopback URLs allowed, and a queue prefix of its own. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig(testEnv(env));
}

/** The environment behind testConfig, for processes that read their own (the all-in-one's worker child). */
export function testEnv(env: Record<string, string> = {}): Record<string, string> {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    DATA_DIR: path.join(os.tmpdir(), `facedetect-${prefix}`),
    LOG_LEVEL: 'silent',
    ALLOW_PRIVATE_URLS: 'true',
    INFERENCE_THREADS: '2',
    WORKER_METRICS_PORT: '0',
    GATEWAY_METRICS_PORT: '0',
    // The video suite runs once with the bundled binaries and once with these (.ci/run).
    ...(process.env.FFMPEG_PATH ? { FFMPEG_PATH: process.env.FFMPEG_PATH } : {}),
    ...(process.env.FFPROBE_PATH ? { FFPROBE_PATH: process.env.FFPROBE_PATH } : {}),
    ...env,
  };
}

/**
 * Boots gateway and (unless `worker: false`) a worker in this process, against the real Redis.
 * `isAllowedAddress` replaces the worker's rule for which addresses are public (see WorkerStartOptions).
 */
export async function startService(
  env: Record<string, string> = {},
  opts: { worker?: boolean; isAllowedAddress?: (ip: string) => boolean } = {},
): Promise<TestService> {
  const fullEnv = testEnv(env);
  const config = loadConfig(fullEnv);
  const worker =
    opts.worker === false
      ? undefined
      : await startWorker({ config, isAllowedAddress: opts.isAllowedAddress });
  const api = await startApi({ config });
  return {
    url: `http://127.0.0.1:${api.port}`,
    config,
    env: fullEnv,
    api,
    worker,
    async stop() {
      await api.stop();
      await worker?.stop();
      await deleteKeysWithPrefix(config.redis, config.queuePrefix);
      await rm(config.storage.dataDir, { recursive: true, force: true });
    },
  };
}

/** Removes every key under a test's queue prefix (`config.queuePrefix`) from the test Redis. */
export const deleteKeys = (prefix: string) => deleteKeysWithPrefix(loadConfig({ REDIS_URL }).redis, prefix);

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

export async function getJson(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}
