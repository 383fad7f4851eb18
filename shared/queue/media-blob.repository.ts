import { randomUUID } from 'node:crypto';
import { gatewayCommand, type RedisClient } from './redis-connection.js';

const PUT_TIMEOUT_MS = 2000;

/**
 * Uploaded image bytes, parked in Redis as a binary string with a TTL. Job payloads are JSON, so carrying
 * base64 in them would cost a third more Redis memory and a JSON encode and parse of megabytes per job.
 */
export class MediaBlobRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  /** Only the gateway parks uploads, so a Redis fault here is a 503 for the client, not a 500. */
  async put(bytes: Buffer, ttlS: number): Promise<string> {
    const key = `${this.prefix}:blob:${randomUUID()}`;
    await gatewayCommand(this.redis.set(key, bytes, 'EX', ttlS), PUT_TIMEOUT_MS);
    return key;
  }

  /** The bytes, or undefined when the blob expired or was consumed. */
  async get(key: string): Promise<Buffer | undefined> {
    return (await this.redis.getBuffer(key)) ?? undefined;
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(key);
  }
}
