import type { FrameFaces } from '../../shared/contract/api-contract.js';
import type { DetectOptions } from '../../shared/contract/detect-job.contract.js';
import type { WorkerMetrics } from '../../shared/metrics/metrics.js';
import type { DetectedPicture } from '../detection/face-detection.service.js';
import { faceQuality, QUALITY_SIDE } from '../detection/face-quality.js';
import { boxOf, type RawImage } from '../detection/face-types.js';
import { placeFace, selectFaces, toFrameFaces } from '../detection/frame-faces.js';
import { estimatePose } from '../detection/head-pose.js';
import type { FaceTracker } from '../video/face-tracker.js';
import type { CropService } from './crop.service.js';

export interface FrameStepOptions {
  /** The score threshold when a request sets no `min_confidence`. */
  scoreThreshold: number;
}

/** What the step needs of a frame beyond its detection. */
export interface StepFrame {
  /** The key of `faces_obj`. */
  key: string;
  /** `frame_time`: null for an image. */
  time: number | null;
  /** The pixels crops are cut from: the picture, or a bounded copy of it. */
  cropSource(detected: DetectedPicture): Promise<RawImage>;
}

/** The per-frame step as the frame pipeline uses it. */
export interface FrameSteps {
  finish(
    jobId: string,
    frame: StepFrame,
    detected: DetectedPicture,
    tracker: FaceTracker,
    options: DetectOptions,
  ): Promise<FrameFaces>;
}

/**
 * The one per-frame step, for images and videos alike: selects the request's faces, tracks them across
 * frames, adds pose and quality, cuts crops, and counts metrics.
 */
export class FrameStepService implements FrameSteps {
  constructor(
    private readonly crops: Pick<CropService, 'cropFrame'>,
    private readonly metrics: WorkerMetrics,
    private readonly options: FrameStepOptions,
  ) {}

  async finish(
    jobId: string,
    frame: StepFrame,
    detected: DetectedPicture,
    tracker: FaceTracker,
    options: DetectOptions,
  ): Promise<FrameFaces> {
    const { width, height, pyramid } = detected;
    const placed = selectFaces(
      detected.faces.map((f) => placeFace(f, width, height)),
      {
        singleFace: options.singleFace,
        minConfidence: options.minConfidence ?? this.options.scoreThreshold,
        minFaceSize: options.minFaceSize,
        maxFaces: options.maxFaces,
      },
    );
    const { ids, removed } = tracker.update(placed.map((p) => ({ box: p.region, landmarks: p.landmarks })));
    const quality = await Promise.all(
      placed.map(async ({ region }) => {
        const level = await pyramid.levelFor(Math.min(region[2], region[3]), QUALITY_SIDE);
        return faceQuality(level.image, boxOf(region), level.scale);
      }),
    );
    const result = toFrameFaces(placed, {
      faceIds: ids,
      removed,
      frameTime: frame.time,
      pose: placed.map((p) => estimatePose(pairs(p.source.landmarks))),
      quality,
      rotation: detected.turn,
    });
    if (options.returnFaceUrl) {
      const source = await frame.cropSource(detected);
      await this.crops.cropFrame(jobId, frame.key, result, source, options.expandRatio, { width, height });
    }
    this.metrics.frames.inc();
    this.metrics.faces.inc(placed.length);
    return result;
  }
}

function pairs(flat: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}
