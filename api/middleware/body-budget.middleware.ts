import type { RequestHandler } from 'express';
import { QueueUnavailableError } from '../../shared/errors/errors.js';

/** How long a client turned away for a full budget is asked to wait: bodies in flight end within seconds. */
const RETRY_AFTER_S = 5;

/**
 * Bounds the request bodies being received at once, across all connections, to `maxInFlightBytes`. A body
 * counts with its declared length (or the largest body allowed, when it declares none) from the moment its
 * headers arrive until its connection is done with it, so stalled uploads cannot pile up memory: past the
 * budget, requests are answered 503 with Retry-After before a byte of their body is read.
 */
export function bodyBudget(maxInFlightBytes: number, maxBodyBytes: number): RequestHandler {
  let inFlight = 0;
  return (req, _res, next) => {
    const declared = Number(req.get('content-length'));
    const bytes =
      Number.isFinite(declared) && declared >= 0 ? Math.min(declared, maxBodyBytes) : maxBodyBytes;
    if (inFlight + bytes > maxInFlightBytes) {
      next(
        new QueueUnavailableError(
          `The gateway is receiving ${inFlight} bytes of request bodies, the most it takes at once is ${maxInFlightBytes} (MAX_INFLIGHT_BODY_BYTES); try again shortly`,
          RETRY_AFTER_S,
        ),
      );
      return;
    }
    inFlight += bytes;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inFlight -= bytes;
      // A kept-alive connection carries many requests: each one's listener goes with it.
      req.socket.off('close', release);
    };
    // 'close' fires once the request is answered, aborted or timed out: every way a body stops mattering.
    req.once('close', release);
    req.socket.once('close', release);
    next();
  };
}
