import type { Logger } from '../logging/logger.js';
import { isTransient } from '../errors/transient.js';
import { REDIS_RETRY_INTERVAL_MS, type RedisClient } from './redis-connection.js';

/**
 * While Redis is unreachable, every connection of a process (queues, workers, listeners) fails each
 * reconnect attempt and reports it. This turns that flood into one line per retry interval, saying where
 * Redis was looked for and since when, and one line when it answers again.
 */
export class RedisOutageLog {
  private downSince: number | undefined;
  private lastLineAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly log: Logger,
    /** Where Redis is, as config's `redis.display` says it (never with a password). */
    private readonly where: string,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** For 'error' events: true when the error was Redis being unreachable, which this then logged or counted. */
  report(err: unknown): boolean {
    if (!isTransient(err)) return false;
    const now = this.now();
    this.downSince ??= now;
    if (now - this.lastLineAt >= this.intervalMs) {
      this.lastLineAt = now;
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      const seconds = Math.round((now - this.downSince) / 1000);
      this.log.warn(
        { redis: this.where, reason, downForS: seconds },
        `Redis at ${this.where} is unreachable (${reason}) for ${seconds} s; retrying every ${this.intervalMs / 1000} s (set REDIS_URL if it lives elsewhere)`,
      );
    }
    return true;
  }

  /** For 'ready' events. */
  recovered(): void {
    if (this.downSince === undefined) return;
    this.log.info({ redis: this.where }, `Redis at ${this.where} answers again`);
    this.downSince = undefined;
    this.lastLineAt = Number.NEGATIVE_INFINITY;
  }
}

/**
 * The outage log of a process, fed by its own connection `redis`'s errors and recoveries; the process's
 * other connections report to it too. It logs once per reconnect interval.
 */
export function watchRedisOutages(redis: RedisClient, log: Logger, where: string): RedisOutageLog {
  const outage = new RedisOutageLog(log, where, REDIS_RETRY_INTERVAL_MS);
  redis.on('error', (err) => outage.report(err));
  redis.on('ready', () => outage.recovered());
  return outage;
}
