import { AppError } from '../../shared/errors/app-error.js';

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
