import { Cluster } from 'ioredis';
import type { RedisSettings } from '../config/redis-config.js';
import { createRedis, type RedisClient } from './redis-connection.js';

/**
 * Removes every key under `prefix:` (a test's or a benchmark's private queue prefix). SCAN walks one node
 * only, so a Cluster is scanned on each of its primaries.
 */
export async function deleteKeysWithPrefix(settings: RedisSettings, prefix: string): Promise<void> {
  const redis = createRedis(settings, 'worker', 'facedetect-cleanup');
  try {
    const nodes: RedisClient[] = redis instanceof Cluster ? await primaries(redis) : [redis];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
        cursor = next;
        // One prefix is one hash tag, so these keys share a slot and one DEL may take them all.
        if (keys.length > 0) await node.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

async function primaries(cluster: Cluster): Promise<RedisClient[]> {
  if (cluster.status !== 'ready') await new Promise((resolve) => cluster.once('ready', resolve));
  return cluster.nodes('master');
}
