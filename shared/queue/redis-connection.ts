import { Redis, type RedisOptions } from 'ioredis';
import { QueueUnavailableError } from '../errors/errors.js';
import { withTimeout } from './timeout.js';

/**
 * Redis connections differ by role. Workers and event listeners block on Redis and must wait out an outage
 * (`maxRetriesPerRequest: null`, as BullMQ requires). The gateway must not hang a client's request while
 * Redis is down: its commands fail at once, so it can answer 503, and it reconnects by itself.
 */
export type RedisRole = 'worker' | 'gateway';

/**
 * Connection options from a redis:// or rediss:// URL. BullMQ is given options rather than connections:
 * it then owns the connections it opens and closes them all on close().
 */
export function redisOptions(url: string, role: RedisRole, connectionName: string): RedisOptions {
  const u = new URL(url);
  const common: RedisOptions = {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    connectionName,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
  return role === 'worker'
    ? { ...common, maxRetriesPerRequest: null, enableReadyCheck: true }
    : { ...common, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 2000 };
}

export function createRedis(url: string, role: RedisRole, connectionName: string): Redis {
  const redis = new Redis(redisOptions(url, role, connectionName));
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
