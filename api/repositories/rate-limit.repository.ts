import { createHash } from 'node:crypto';
import { gatewayCommand, type RedisClient } from '../../shared/queue/redis-connection.js';

export interface RateLimitOptions {
  /** Requests a client may make per minute. */
  limit: number;
  /**
   * How long the count may take before the limiter gives up on it; short, as the request then still
   * waits on the queue's own Redis commands.
   * @defaultValue 500
   */
  commandTimeoutMs?: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Until the window ends and the count starts over. */
  resetMs: number;
}

const WINDOW_MS = 60_000;

/**
 * A fixed window that opens with a client's first request. Counting and arming the expiry in one
 * script keeps a counter from living forever when the gateway dies between the two, and lets every
 * gateway sharing this Redis count against the same budget.
 */
const HIT = `
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

/**
 * Request counts per client in Redis. Clients are stored as SHA-256 digests, so neither API keys nor
 * addresses can be read back from Redis.
 */
export class RateLimitRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    readonly options: RateLimitOptions,
  ) {}

  /** Counts `units` requests by `client` (a batch counts its items) and says whether it is within the limit. */
  async hit(client: string, units = 1): Promise<RateLimitDecision> {
    const key = `${this.prefix}:ratelimit:${createHash('sha256').update(client).digest('hex')}`;
    const [count, resetMs] = (await gatewayCommand(
      this.redis.eval(HIT, 1, key, WINDOW_MS, units),
      this.options.commandTimeoutMs ?? 500,
    )) as [number, number];
    return { allowed: count <= this.options.limit, resetMs };
  }
}
