import { UnrecoverableError } from 'bullmq';
import { AppError } from '../../shared/errors/app-error.js';
import { InternalError } from '../../shared/errors/errors.js';
import { encodeJobError } from '../../shared/errors/job-error-codec.js';
import { isTransient } from '../../shared/errors/transient.js';

/** What becomes of a job whose attempt failed. */
export interface FailedAttempt {
  /** `rejected`: the request's fault; `unexpected`: a bug; `transient`: a fault worth another try. */
  cause: 'rejected' | 'unexpected' | 'transient';
  /** The error its client is answered if this attempt was its last: ours, or INTERNAL for anything else. */
  error: AppError;
  /** Whether BullMQ runs it again: a transient fault with attempts left. */
  retry: boolean;
  /** What BullMQ is handed: an UnrecoverableError ends the job at once; the reason carries `error`, encoded. */
  thrown: Error;
}

/**
 * Only transient faults (network, Redis, storage) are retried; bad input and anything unexpected fail at
 * once, since they would fail the same way again. `attempt` counts from 1, of `attempts` in all.
 */
export function judgeFailedAttempt(err: unknown, attempt: number, attempts = 1): FailedAttempt {
  const retry = attempt < attempts;
  if (err instanceof Error && isTransient(err)) {
    return err instanceof AppError
      ? { cause: 'transient', error: err, retry, thrown: new Error(encodeJobError(err)) }
      : { cause: 'transient', error: new InternalError(), retry, thrown: err };
  }
  const error = err instanceof AppError ? err : new InternalError();
  return {
    cause: err instanceof AppError ? 'rejected' : 'unexpected',
    error,
    retry: false,
    thrown: new UnrecoverableError(encodeJobError(error)),
  };
}
