import { Redis, type RedisOptions } from 'ioredis';
import { QueueUnavailableError } from '../errors/errors.js';
import { withTimeout } from './timeout.js';

/**
 * Redis connections differ by role. Workers and event listeners block on Redis and must wait out an outage
 * (`maxRetriesPerRequest: null`, as BullMQ requires). The gateway must not hang a client's request while
 * Redis is down: its commands fail at once, so it can answer 503, and it reconnects by itself.
 */
export type RedisRole = 'worker' | 'gateway';

export function createRedis(url: string, role: RedisRole, connectionName: string): Redis {
  const common: RedisOptions = {
    connectionName,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
  const options: RedisOptions =
    role === 'worker'
      ? { ...common, maxRetriesPerRequest: null, enableReadyCheck: true }
      : { ...common, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 2000 };
  const redis = new Redis(url, options);
  // Without a listener ioredis reports every failed reconnect as an unhandled error event.
  redis.on('error', () => undefined);
  return redis;
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export function waitUntilReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis not reachable within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

const UNAVAILABLE = 'The job queue (Redis) is unavailable; try again in a few seconds';
const RETRY_AFTER_S = 5;

/**
 * A gateway command: its failure, or a wait longer than `timeoutMs` (a Redis that accepts connections
 * but does not answer), becomes a QueueUnavailableError, so the client gets a 503 with Retry-After
 * instead of a 500 or a request that hangs.
 */
export function gatewayCommand<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  const unavailable = () => new QueueUnavailableError(UNAVAILABLE, RETRY_AFTER_S);
  return withTimeout(promise, timeoutMs, unavailable).catch((err: unknown) => {
    throw err instanceof QueueUnavailableError ? err : unavailable();
  });
}
