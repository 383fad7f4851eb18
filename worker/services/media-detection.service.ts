import type { FacesObj } from '../../shared/contract/api-contract.js';
import type { DetectOptions } from '../../shared/contract/detect-job.contract.js';
import type { DetectedPicture, PictureRequest } from '../detection/face-detection.service.js';
import type { QuarterTurn } from '../detection/view-transform.js';
import { FaceTracker } from '../video/face-tracker.js';
import type { TrackBook } from '../video/track-book.js';
import type { FrameSteps, StepFrame } from './frame-step.service.js';

/** A frame of an image or a video, ready to be searched. */
export interface MediaFrame extends StepFrame {
  detect(request: PictureRequest): Promise<DetectedPicture>;
}

export interface MediaDetectionOptions {
  /**
   * Frames detected at once: the inference threads, so that each has a frame. Tracking, crops and
   * progress still follow frame order.
   * @defaultValue 1
   */
  parallelFrames?: number;
}

/** Faces of a sequence of frames, as image and video jobs use it. */
export interface FrameDetection {
  detect(
    jobId: string,
    frames: AsyncIterable<MediaFrame> | Iterable<MediaFrame>,
    options: DetectOptions,
    onFrameDone?: (done: number) => Promise<void>,
    /** A video's tracks, fed every face of every frame in order. */
    book?: TrackBook,
  ): Promise<FacesObj>;
}

interface InFlight {
  frame: MediaFrame;
  detected: Promise<DetectedPicture>;
}

/**
 * The frame pipeline for both media: an image is a video of one frame. Frames arrive while later ones are
 * still being extracted, up to `parallelFrames` of them are detected at once, and each is then finished in
 * order and let go, so memory stays bounded whatever the number of frames. The frames share one tracker
 * and one turn: once a frame's faces make the picture's turn clear, frames started after it was finished
 * search that turn alone. The turn is taken in frame order, so answers do not depend on timing.
 */
export class MediaDetectionService implements FrameDetection {
  constructor(
    private readonly step: FrameSteps,
    private readonly options: MediaDetectionOptions = {},
  ) {}

  async detect(
    jobId: string,
    frames: AsyncIterable<MediaFrame> | Iterable<MediaFrame>,
    options: DetectOptions,
    onFrameDone?: (done: number) => Promise<void>,
    book?: TrackBook,
  ): Promise<FacesObj> {
    const request: PictureRequest = {
      minConfidence: options.minConfidence,
      autoRotate: options.autoRotate,
      minFaceSize: options.minFaceSize,
    };
    const tracker = new FaceTracker();
    let turn: QuarterTurn | undefined;
    const facesObj: FacesObj = {};
    let done = 0;
    const finish = async (next: InFlight) => {
      const detected = await next.detected;
      if (turn === undefined && detected.decided) turn = detected.turn;
      facesObj[next.frame.key] = await this.step.finish(jobId, next.frame, detected, tracker, options, book);
      await onFrameDone?.(++done);
    };
    const inFlight: InFlight[] = [];
    try {
      for await (const frame of frames) {
        const detected = frame.detect({ ...request, turn });
        // Awaited in turn by finish(); until then a failure must not count as unhandled.
        detected.catch(() => {});
        inFlight.push({ frame, detected });
        if (inFlight.length >= (this.options.parallelFrames ?? 1)) await finish(inFlight.shift()!);
      }
      for (let next = inFlight.shift(); next; next = inFlight.shift()) await finish(next);
    } finally {
      // A failure leaves detections running; they must end before the job does, and not as unhandled.
      await Promise.allSettled(inFlight.map((f) => f.detected));
    }
    return facesObj;
  }
}
