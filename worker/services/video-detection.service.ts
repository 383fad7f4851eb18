import type { FacesObj } from '../../shared/contract/api-contract.js';
import type { DetectOptions } from '../../shared/contract/detect-job.contract.js';
import type { DetectedPicture, PictureRequest } from '../detection/face-detection.service.js';
import type { RawImage } from '../detection/face-types.js';
import type { DetectJob } from '../queue/detect-worker.repository.js';
import type { VideoSource } from '../video/ffmpeg-args.js';
import type { FramePipeline, FramePlan } from '../video/frame-pipeline.js';
import type { TrackBook } from '../video/track-book.js';
import type { FrameDetection, MediaFrame } from './media-detection.service.js';

export interface VideoDetectionOptions {
  /**
   * Longer side of the frames extracted when faces are cropped: crops are cut from frames this size at
   * most (and scaled up to `crop_region`), so a huge video never brings full-size frames into the process.
   * @defaultValue 1920
   */
  cropMaxSide?: number;
}

/** Face detection of decoded video frames (FaceDetectionService). */
export interface FrameDetector {
  detectRaw(
    image: RawImage,
    width: number,
    height: number,
    request: PictureRequest,
  ): Promise<DetectedPicture>;
}

/** Faces of a video, as a job uses it. */
export interface VideoDetection {
  detect(
    job: DetectJob,
    input: VideoSource,
    options: DetectOptions,
    signal: AbortSignal,
    /** Gets every face of every sampled frame, for the answer's `tracks`. */
    book?: TrackBook,
  ): Promise<FacesObj>;
}

/**
 * Detects faces in the sampled frames of a video: plans the samples, then feeds the frames, as ffmpeg
 * extracts them, through the frame pipeline that images also take.
 */
export class VideoDetectionService implements VideoDetection {
  constructor(
    private readonly pipeline: FramePipeline,
    private readonly detector: FrameDetector,
    private readonly media: FrameDetection,
    private readonly options: VideoDetectionOptions = {},
  ) {}

  async detect(
    job: DetectJob,
    input: VideoSource,
    options: DetectOptions,
    signal: AbortSignal,
    book?: TrackBook,
  ): Promise<FacesObj> {
    const plan = await this.pipeline.plan(input, options.numFrames, signal);
    const total = plan.samples.length;
    await job.updateProgress({ frames_done: 0, frames_total: total });
    return this.media.detect(
      job.id,
      this.frames(input, plan, options, signal),
      options,
      (done) => job.updateProgress({ frames_done: done, frames_total: total }),
      book,
    );
  }

  private async *frames(
    input: VideoSource,
    plan: FramePlan,
    options: DetectOptions,
    signal: AbortSignal,
  ): AsyncGenerator<MediaFrame> {
    const { width, height } = plan.probe;
    // Crops are cut from larger frames than detection alone needs, but never from unbounded ones.
    const maxSide = options.returnFaceUrl ? (this.options.cropMaxSide ?? 1920) : undefined;
    for await (const { key, time, frame } of this.pipeline.frames(input, plan, signal, maxSide)) {
      yield {
        key,
        time,
        detect: (request) => this.detector.detectRaw(frame, width, height, request),
        cropSource: () => Promise.resolve(frame),
      };
    }
  }
}
