import type { Request, RequestHandler } from 'express';
import { RateLimitedError } from '../../shared/errors/errors.js';
import type { Logger } from '../../shared/logging/logger.js';
import type { RateLimitRepository } from '../repositories/rate-limit.repository.js';

/**
 * Refuses a client's requests beyond the limit with 429 and Retry-After. Runs after authentication,
 * so it counts per API key; without keys, per client address.
 *
 * When Redis cannot count, the request goes through: failing closed would turn a Redis outage into
 * refusals of every request, and the queue, which needs the same Redis, answers 503 anyway.
 */
export function rateLimit(limiter: RateLimitRepository, log: Logger): RequestHandler {
  const { limit } = limiter.options;
  let failing = false;
  return async (req, _res, next) => {
    const who = clientOf(req);
    let decision;
    try {
      decision = await limiter.hit(who.id);
    } catch (err) {
      if (!failing) log.warn({ err }, 'rate limiter cannot reach Redis; letting requests through');
      failing = true;
      next();
      return;
    }
    if (failing) log.info('rate limiter counts again');
    failing = false;
    if (decision.allowed) {
      next();
      return;
    }
    const retryAfterS = Math.max(1, Math.ceil(decision.resetMs / 1000));
    next(
      new RateLimitedError(
        `Too many requests: at most ${limit} per minute ${who.unit} (RATE_LIMIT_PER_MIN); retry after ${retryAfterS} s`,
        retryAfterS,
      ),
    );
  };
}

/**
 * Counts the other `units` requests of a batch once its size is known, refusing the whole batch with 429
 * before any work when they pass the limit. As for single requests, a Redis that cannot count lets it by.
 */
export async function chargeMore(limiter: RateLimitRepository, req: Request, units: number): Promise<void> {
  if (units <= 0) return;
  const who = clientOf(req);
  const decision = await limiter.hit(who.id, units).catch(() => undefined);
  if (!decision || decision.allowed) return;
  const retryAfterS = Math.max(1, Math.ceil(decision.resetMs / 1000));
  throw new RateLimitedError(
    `Too many requests: this batch's ${units + 1} items pass the limit of ${limiter.options.limit} per minute ${who.unit} (RATE_LIMIT_PER_MIN); retry after ${retryAfterS} s`,
    retryAfterS,
  );
}

function clientOf(req: Request): { id: string; unit: string } {
  return req.apiKeyDigest
    ? { id: `key:${req.apiKeyDigest}`, unit: 'per API key' }
    : { id: `ip:${req.ip ?? 'unknown'}`, unit: 'per client address' };
}
