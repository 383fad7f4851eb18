import { AppError } from './app-error.js';
import { InternalError, WorkerLostError } from './errors.js';

/**
 * BullMQ keeps only a failed job's message (`failedReason`). The worker encodes an AppError into it so
 * the gateway can answer with the same code, status, message and Retry-After; anything else becomes a
 * generic internal error, so no stack trace or path reaches a user.
 */
const PREFIX = 'app-error:';

interface EncodedError {
  code: string;
  status: number;
  message: string;
  retryAfterS?: number;
}

export function encodeJobError(err: AppError): string {
  const body: EncodedError = {
    code: err.code,
    status: err.httpStatus,
    message: err.message,
    ...(err.retryAfterS !== undefined ? { retryAfterS: err.retryAfterS } : {}),
  };
  return PREFIX + JSON.stringify(body);
}

/**
 * BullMQ's reason for a job whose worker was lost more often than maxStalledCount allows, whole: our own
 * reasons are encoded, and may quote a user's URL, which could hold these words.
 */
const STALLED = 'job stalled more than allowable limit';

/** Whether BullMQ failed the job because its worker was lost more often than maxStalledCount allows. */
export function isStallFailure(failedReason: string | undefined): boolean {
  return failedReason === STALLED;
}

export function decodeJobError(failedReason: string | undefined): AppError {
  if (isStallFailure(failedReason)) {
    return new WorkerLostError();
  }
  if (failedReason?.startsWith(PREFIX)) {
    try {
      const body = JSON.parse(failedReason.slice(PREFIX.length)) as Partial<EncodedError>;
      if (
        typeof body.code === 'string' &&
        typeof body.status === 'number' &&
        typeof body.message === 'string'
      ) {
        const retryAfterS = typeof body.retryAfterS === 'number' ? body.retryAfterS : undefined;
        return new AppError(body.code, body.status, body.message, false, { retryAfterS });
      }
    } catch {
      // fall through to the generic error
    }
  }
  return new InternalError();
}
