import { AppError } from './app-error.js';

/**
 * Socket faults that say nothing about the request, with the words a user is told: the same job may well
 * pass a moment later. The one list, for Redis and storage faults as for downloads.
 */
export const NETWORK_FAULTS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ECONNABORTED: 'connection aborted',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  EHOSTDOWN: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network unreachable',
  EPIPE: 'connection closed while sending',
  EAI_AGAIN: 'name lookup failed for now',
  ERR_STREAM_PREMATURE_CLOSE: 'connection closed before the body was complete',
};

/** ioredis's names for a connection that is down or gave up on a command. */
const REDIS_FAULTS = new Set(['MaxRetriesPerRequestError']);
const REDIS_CLOSED = /^Connection is closed\.?$|^Stream isn't writeable/;
/**
 * A Redis failover in progress: a Cluster with a slot whose primary is gone (CLUSTERDOWN, TRYAGAIN, and
 * ioredis giving up on redirections or on its slot map), or a node that is loading, or no longer or not yet
 * the primary (READONLY, MASTERDOWN). The replica that takes over answers the same command.
 */
const REDIS_FAILOVER =
  /^(CLUSTERDOWN|TRYAGAIN|LOADING|READONLY|MASTERDOWN)\b|^Too many Cluster redirections|^Failed to refresh slots cache|^Cluster isn't ready/;

/**
 * Whether a failure is worth another attempt: our own errors say so themselves (network resets, storage
 * 5xx, Redis), and raw socket or Redis connection faults are transient. Everything else, a bug included,
 * would fail the same way again, so it fails once.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof AppError) return err.retryable;
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && Object.hasOwn(NETWORK_FAULTS, code)) return true;
  return REDIS_FAULTS.has(err.name) || REDIS_CLOSED.test(err.message) || REDIS_FAILOVER.test(err.message);
}
