export interface AppErrorOptions {
  cause?: unknown;
  /** Seconds the client is asked to wait before trying again (the answer's Retry-After). */
  retryAfterS?: number;
}

/**
 * Base of every error the service reports to a user. `code` is a stable machine-readable name,
 * `httpStatus` the status the gateway answers with, and `message` is shown to the user verbatim, so it
 * says what was wrong and what to do. `retryable` marks transient faults: the worker lets BullMQ retry
 * them with backoff, and fails everything else at once. `retryAfterS`, when set, is how long the client
 * should wait before sending the request again.
 */
export class AppError extends Error {
  declare readonly retryAfterS?: number;

  constructor(
    readonly code: string,
    readonly httpStatus: number,
    message: string,
    readonly retryable = false,
    options: AppErrorOptions = {},
  ) {
    const { retryAfterS, ...errorOptions } = options;
    super(message, errorOptions);
    this.name = new.target.name;
    if (retryAfterS !== undefined) this.retryAfterS = retryAfterS;
  }
}
