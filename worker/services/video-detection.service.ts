import type { FacesObj } from '../../shared/contract/api-contract.js';
import type { DetectOptions } from '../../shared/contract/detect-job.contract.js';
import type { WorkerMetrics } from '../../shared/metrics/metrics.js';
import type { FaceDetectionService } from '../detection/face-detection.service.js';
import { placeFace, selectFaces, toFrameFaces } from '../detection/frame-faces.js';
import type { DetectJob } from '../queue/detect-worker.repository.js';
import { FaceTracker } from '../video/face-tracker.js';
import type { FramePipeline } from '../video/frame-pipeline.js';
import type { CropService } from './crop.service.js';

export interface VideoDetectionOptions {
  scoreThreshold: number;
}

/**
 * Detects faces in the sampled frames of a video file. Frames arrive from the pipeline while later ones
 * are still being extracted, so ffmpeg and inference overlap; each frame is detected, tracked, cropped
 * and let go before the next, so memory stays bounded whatever the number of samples.
 */
export class VideoDetectionService {
  constructor(
    private readonly pipeline: FramePipeline,
    private readonly detector: FaceDetectionService,
    private readonly crops: CropService,
    private readonly metrics: WorkerMetrics,
    private readonly options: VideoDetectionOptions,
  ) {}

  async detect(job: DetectJob, file: string, options: DetectOptions, signal: AbortSignal): Promise<FacesObj> {
    const plan = await this.pipeline.plan(file, options.numFrames, signal);
    const total = plan.samples.length;
    await job.updateProgress({ frames_done: 0, frames_total: total });
    const { width, height } = plan.probe;
    const tracker = new FaceTracker();
    const facesObj: FacesObj = {};
    let done = 0;
    // Crops must be cut from full-resolution frames; detection alone works on frames capped at maxSide.
    const maxSide = options.returnFaceUrl ? Infinity : undefined;
    for await (const { key, time, frame } of this.pipeline.frames(file, plan, signal, maxSide)) {
      const faces = await this.detector.detectRaw(frame, width, height, options.minConfidence);
      const placed = selectFaces(
        faces.map((f) => placeFace(f, width, height)),
        {
          singleFace: options.singleFace,
          minConfidence: options.minConfidence ?? this.options.scoreThreshold,
        },
      );
      const { ids, removed } = tracker.update(placed.map((p) => ({ box: p.region, landmarks: p.landmarks })));
      const result = toFrameFaces(placed, { faceIds: ids, removed, frameTime: time });
      if (options.returnFaceUrl) await this.crops.cropFrame(job.id, key, result, frame, options.expandRatio);
      facesObj[key] = result;
      this.metrics.frames.inc();
      this.metrics.faces.inc(placed.length);
      await job.updateProgress({ frames_done: ++done, frames_total: total });
    }
    return facesObj;
  }
}
