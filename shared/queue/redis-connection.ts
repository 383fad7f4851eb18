import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisSettings } from '../config/redis-config.js';
import { QueueUnavailableError } from '../errors/errors.js';
import { withTimeout } from './timeout.js';

/**
 * Redis connections differ by role. Workers and event listeners block on Redis and must wait out an outage
 * (`maxRetriesPerRequest: null`, as BullMQ requires). The gateway must not hang a client's request while
 * Redis is down: its commands fail at once, so it can answer 503, and it reconnects by itself.
 */
export type RedisRole = 'worker' | 'gateway';

/** One Redis node, or a Redis Cluster: both take the same commands. */
export type RedisClient = Redis | Cluster;

/** The longest wait between two reconnect attempts, which the outage log's interval follows. */
export const REDIS_RETRY_INTERVAL_MS = 2000;

const retryStrategy = (times: number) => Math.min(times * 200, REDIS_RETRY_INTERVAL_MS);

/**
 * A client for the configured topology. BullMQ is handed these clients too, since it cannot open a
 * Cluster from options; it leaves a client it was handed open, so its owner disconnects it after closing
 * the queue, worker or listener.
 */
export function createRedis(
  settings: RedisSettings,
  role: RedisRole,
  connectionName: string,
  { lazyConnect = false } = {},
): RedisClient {
  const redis =
    settings.topology.mode === 'cluster'
      ? new Cluster(settings.topology.nodes, {
          ...clusterOptions(settings, role, connectionName),
          lazyConnect,
        })
      : new Redis({ ...nodeOptions(settings, role, connectionName), lazyConnect });
  // Without a listener ioredis reports every failed reconnect as an unhandled error event.
  redis.on('error', () => undefined);
  return redis;
}

function nodeOptions(settings: RedisSettings, role: RedisRole, connectionName: string): RedisOptions {
  const { topology } = settings;
  const common: RedisOptions = {
    username: settings.username,
    password: settings.password,
    tls: settings.tls ? { ca: settings.tls.ca } : undefined,
    connectionName,
    retryStrategy,
    ...(topology.mode === 'single' ? { host: topology.host, port: topology.port, db: topology.db } : {}),
    ...(topology.mode === 'sentinel'
      ? {
          sentinels: topology.sentinels,
          name: topology.name,
          sentinelPassword: topology.sentinelPassword,
          enableTLSForSentinelMode: settings.tls !== undefined,
          sentinelTLS: settings.tls ? { ca: settings.tls.ca } : undefined,
          sentinelRetryStrategy: retryStrategy,
          // A primary demoted while still up (a manual failover, a partition healed) refuses writes as a
          // replica: reconnecting asks the sentinels for the new one. A primary that died breaks the
          // connection anyway. (ioredis's failoverDetector ended connections for good in our failover test.)
          reconnectOnError: (err: Error) => err.message.startsWith('READONLY'),
        }
      : {}),
  };
  return role === 'worker'
    ? { ...common, maxRetriesPerRequest: null, enableReadyCheck: true }
    : { ...common, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 2000 };
}

function clusterOptions(settings: RedisSettings, role: RedisRole, connectionName: string): ClusterOptions {
  return {
    redisOptions: nodeOptions(settings, role, connectionName),
    clusterRetryStrategy: retryStrategy,
    enableOfflineQueue: role === 'worker',
    enableReadyCheck: true,
    // While a replica takes over (about twice `cluster-node-timeout`), a worker's command is retried every
    // half second for about 30 s rather than failing its job; a gateway's gives up after three tries 100 ms
    // apart, for a quick 503. Each retry refreshes the slot map, as does the timer, so the client finds the
    // new primary even when no command of its own fails.
    ...(role === 'worker'
      ? { retryDelayOnClusterDown: 500, retryDelayOnFailover: 500, maxRedirections: 60 }
      : { maxRedirections: 3 }),
    slotsRefreshInterval: 5000,
    // Resolved here, a node's name would reach TLS as an address that its certificate does not name
    // (ioredis's advice for TLS clusters such as ElastiCache).
    ...(settings.tls ? { dnsLookup: (address, lookup) => lookup(null, address) } : {}),
  };
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
