import { PayloadTooLargeError, UnsupportedMediaError } from '../../shared/errors/errors.js';
import type { AppError } from '../../shared/errors/app-error.js';

/** What a user is told when a video cannot be used. Messages name no path and quote no ffmpeg output. */
export const VIDEO_MESSAGES = {
  noVideo: 'The media has no video stream; send an image or a video with a video track',
  unreadable:
    'The media could not be read as a video; send an image or a video in a common format such as MP4, MOV, WebM or MKV',
  crashed:
    'The video made the decoder fail; it is damaged or uses features this service does not support; re-encode it (for example as H.264 in MP4)',
  truncated: 'The video is truncated or incomplete; send the whole file',
  noFrames: 'The video has no frames; send a video with at least one frame',
  damaged: 'The video could not be decoded; it may be damaged or truncated',
  damagedAt: (timeS: number) =>
    `The video could not be decoded at ${timeS.toFixed(3)} s; it may be damaged or truncated`,
  headersTooLarge: (limit: number) =>
    `The video's headers describe more than ffprobe may report (${limit} bytes); send a video with fewer streams`,
} as const;

// "error reading header" is the mov demuxer's word for an index (moov) box that ends early or overruns.
const TRUNCATION = /moov atom not found|error reading header|partial file|end of file|truncat/i;
const MISDETECTION = /misdetection possible/i;

/** The mov demuxer's warning for an index entry beyond the end of the file. */
const INDEX_PAST_END = /partial file/i;

/** Whether a run that succeeded warned of an index pointing past the end of the file (it was cut). */
export function saysIndexPastEnd(stderr: string): boolean {
  return INDEX_PAST_END.test(demuxerLines(stderr));
}

/** ffmpeg's stderr without the http protocol's notes on each reconnect to the range proxy ("error=End of file"). */
function demuxerLines(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => !line.includes('[http @'))
    .join('\n');
}

/** Whether ffmpeg's stderr says the input ends early, as opposed to being garbage or damaged inside. */
function saysTruncated(stderr: string): boolean {
  const demuxer = demuxerLines(stderr);
  return TRUNCATION.test(demuxer) && !MISDETECTION.test(demuxer);
}

export function tooManyPixels(width: number, height: number, maxPixels: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `The video's frames are ${width}x${height} = ${width * height} pixels, above the ${maxPixels}-pixel limit (MAX_VIDEO_PIXELS); send a smaller video`,
  );
}

/** ffmpeg's `max_pixels` refusal: the decoder was asked for a picture above our limit and allocated nothing. */
const PIXEL_LIMIT = /Picture size (\d+)x(\d+) exceeds specified max pixel count (\d+)/;

/** Why a child that exited with an error failed, as the user should hear it. */
export function explainExit(
  stderr: string,
  failureMessage: string,
  detail: Error,
  tooLarge: (width: number, height: number, maxPixels: number) => AppError = tooManyPixels,
): AppError {
  const pixels = PIXEL_LIMIT.exec(stderr);
  if (pixels) {
    const err = tooLarge(Number(pixels[1]), Number(pixels[2]), Number(pixels[3]));
    err.cause = detail;
    return err;
  }
  return unsupported(saysTruncated(stderr) ? VIDEO_MESSAGES.truncated : failureMessage, detail);
}

/** A refusal of the media with ffmpeg's details kept for the logs only. */
export function unsupported(message: string, cause: unknown): UnsupportedMediaError {
  return new UnsupportedMediaError(message, { cause });
}
