import { AppError } from '../../shared/errors/app-error.js';

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
