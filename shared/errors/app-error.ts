/**
 * Base of every error the service reports to a user. `code` is a stable machine-readable name,
 * `httpStatus` the status the gateway answers with, and `message` is shown to the user verbatim, so it
 * says what was wrong and what to do. `retryable` marks transient faults: the worker lets BullMQ retry
 * them with backoff, and fails everything else at once.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly httpStatus: number,
    message: string,
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
