import { AppError } from './app-error.js';

/**
 * The base of an error that only its message tells apart from others of its kind: its code, its status,
 * and whether it is retried. Each error made from it is still a named class of its own, for `instanceof`
 * and for its `name`.
 */
function errorOfKind(code: string, httpStatus: number) {
  return class extends AppError {
    constructor(message: string, options?: { cause?: unknown }) {
      super(code, httpStatus, message, false, options);
    }
  };
}

export class InvalidRequestError extends errorOfKind('INVALID_REQUEST', 400) {}

export class UnauthorizedError extends errorOfKind('UNAUTHORIZED', 401) {}

export class NotFoundError extends errorOfKind('NOT_FOUND', 404) {}

export class PayloadTooLargeError extends errorOfKind('PAYLOAD_TOO_LARGE', 413) {}

/** A body sent in a Content-Encoding the gateway does not decode. */
export class UnsupportedEncodingError extends errorOfKind('UNSUPPORTED_ENCODING', 415) {}

export class UnsupportedMediaError extends errorOfKind('UNSUPPORTED_MEDIA', 422) {}

export class RateLimitedError extends AppError {
  constructor(message: string, retryAfterS: number) {
    super('RATE_LIMITED', 429, message, false, { retryAfterS });
  }
}

/** The media could not be fetched. Network faults and 5xx answers are worth a retry; 4xx are not. */
export class DownloadFailedError extends AppError {
  constructor(reason: string, retryable: boolean, options?: { cause?: unknown }) {
    super('DOWNLOAD_FAILED', 502, `Failed to download media from URL: ${reason}`, retryable, options);
  }
}

/**
 * A file read by range answered, partway, with another version than the first answer's (another ETag,
 * Last-Modified or length): the pieces read would stitch two files together. A fault of the URL's content,
 * not of the network, so it is not retried.
 */
export class MediaChangedError extends AppError {
  constructor(what: 'ETag' | 'Last-Modified' | 'length') {
    super(
      'MEDIA_CHANGED',
      422,
      `Media at the URL could not be read: the file changed while it was read (its ${what} changed); send the request again once the file no longer changes`,
    );
  }
}

export class StorageError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORAGE_FAILED', 502, `Object storage failed: ${message}`, true, options);
  }
}

export class QueueUnavailableError extends AppError {
  constructor(message: string, retryAfterS?: number, retryable = true) {
    super('QUEUE_UNAVAILABLE', 503, message, retryable, { retryAfterS });
  }
}

/** How long a client refused for a full queue is asked to wait; workers drain a queue in seconds. */
const FULL_QUEUE_RETRY_AFTER_S = 10;

/**
 * A queue at MAX_QUEUE_DEPTH, whether the gateway sees it before queueing or a worker before moving a job to
 * the lane of its bytes. The client may try again later; the worker does not, since retrying a job into a
 * full lane is what the bound is there to stop.
 */
export class QueueFullError extends QueueUnavailableError {
  constructor(kind: string, waiting: number, limit: number) {
    super(
      `The ${kind} queue is full: ${waiting} jobs are waiting, the limit is ${limit} (MAX_QUEUE_DEPTH); try again later`,
      FULL_QUEUE_RETRY_AFTER_S,
      false,
    );
  }
}

export class ModelError extends errorOfKind('MODEL_UNAVAILABLE', 500) {}

export class InternalError extends AppError {
  constructor(
    message = 'Internal error while processing the request; try again, and report it if it persists',
  ) {
    super('INTERNAL', 500, message);
  }
}

/** The job's worker died during it, once and again on the retry: not worth a third try. */
export class WorkerLostError extends AppError {
  constructor() {
    super(
      'WORKER_LOST',
      500,
      'The worker processing this job stopped unexpectedly, and again on the retry; the media may crash the decoder, so it is not tried again',
    );
  }
}

/**
 * A URL refused by our rules rather than failed by its server: a non-public address (given, resolved, or
 * redirected to), a non-HTTP redirect, credentials in the URL. The request is at fault, so 400, not 502.
 */
export class UrlRefusedError extends AppError {
  constructor(field: string, reason: string) {
    super('URL_REFUSED', 400, `'${field}' is refused: ${reason}`);
  }
}

export const URL_REFUSALS = {
  address:
    'its host resolves to a loopback, private, link-local or otherwise non-public address; use a public URL',
  redirectAddress:
    'it redirects to a loopback, private, link-local or otherwise non-public address; use a public URL',
  redirectScheme: 'it redirects to a URL that is not http or https',
  credentials:
    'it carries a user name or password (user:pass@host); credentials are not accepted in URLs, use a signed or public URL',
} as const;

/** The model run failed. A thread that died is replaced, so its job is worth another try. */
export class InferenceFailedError extends AppError {
  constructor(reason: string, threadDied: boolean) {
    super(
      'INFERENCE_FAILED',
      500,
      threadDied ? `Face detection thread failed: ${reason}` : `Face detection failed: ${reason}`,
      threadDied,
    );
  }
}

/** A whole video job ran past its time budget (VIDEO_TIMEOUT_MS); a retry would run just as long. */
export class VideoTimeoutError extends AppError {
  constructor(ms: number) {
    super(
      'MEDIA_TIMEOUT',
      422,
      `Processing the video took longer than ${ms} ms; send a shorter video or fewer num_frames`,
    );
  }
}

/**
 * ffmpeg or ffprobe stopped producing output and was killed. A hang on one frame points at the media
 * (a crafted or pathological file) rather than at a passing fault, so the job is not retried.
 */
export class MediaTimeoutError extends AppError {
  constructor(options?: { cause?: unknown }) {
    super(
      'MEDIA_TIMEOUT',
      422,
      'Decoding the video took too long; send a shorter video or one in a common format such as H.264 MP4',
      false,
      options,
    );
  }
}

/** An uploaded image was dropped from Redis (its TTL) before a worker took its job. */
export class MediaExpiredError extends AppError {
  constructor() {
    super('MEDIA_EXPIRED', 410, 'The uploaded image expired before a worker reached it; send it again');
  }
}

/** The callback URL answered with a non-2xx status; deliveries are retried with backoff. */
export class CallbackRejectedError extends AppError {
  constructor(status: number) {
    super('CALLBACK_REJECTED', 502, `callback answered HTTP ${status}`, true);
  }
}
