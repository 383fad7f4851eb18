import type { FacesObj } from '../../shared/contract/api-contract.js';
import type { DetectOptions } from '../../shared/contract/detect-job.contract.js';
import type { WorkerMetrics } from '../../shared/metrics/metrics.js';
import type { FaceBox } from '../detection/face-box.js';
import type { FaceDetectionService } from '../detection/face-detection.service.js';
import { placeFace, selectFaces, toFrameFaces } from '../detection/frame-faces.js';
import type { DetectJob } from '../queue/detect-worker.repository.js';
import { FaceTracker } from '../video/face-tracker.js';
import { toInput, type VideoSource } from '../video/ffmpeg-args.js';
import type { RawFrame } from '../video/ffmpeg.repository.js';
import type { FramePipeline } from '../video/frame-pipeline.js';
import type { CropService } from './crop.service.js';

export interface VideoDetectionOptions {
  scoreThreshold: number;
  /**
   * Frames detected at once: the inference threads, so that each has a frame. Tracking, crops and
   * progress still follow frame order.
   * @defaultValue 1
   */
  parallelFrames?: number;
  /**
   * Longer side of the frames extracted when faces are cropped: crops are cut from frames this size at
   * most (and scaled up to `crop_region`), so a huge video never brings full-size frames into the process.
   * @defaultValue 1920
   */
  cropMaxSide?: number;
}

interface InFlight {
  key: string;
  time: number;
  frame: RawFrame;
  faces: Promise<FaceBox[]>;
}

/**
 * Detects faces in the sampled frames of a video file. Frames arrive from the pipeline while later ones
 * are still being extracted, so ffmpeg and inference overlap, and up to `parallelFrames` of them are
 * detected at once; each is then tracked and cropped in order and let go, so memory stays bounded
 * whatever the number of samples.
 */
export class VideoDetectionService {
  constructor(
    private readonly pipeline: FramePipeline,
    private readonly detector: FaceDetectionService,
    private readonly crops: CropService,
    private readonly metrics: WorkerMetrics,
    private readonly options: VideoDetectionOptions,
  ) {}

  async detect(
    job: DetectJob,
    input: VideoSource,
    options: DetectOptions,
    signal: AbortSignal,
  ): Promise<FacesObj> {
    // Listing packets reads the whole input: cheap for a file on disk, not for one read by range.
    const plan = await this.pipeline.plan(input, options.numFrames, signal, toInput(input).kind === 'file');
    const total = plan.samples.length;
    await job.updateProgress({ frames_done: 0, frames_total: total });
    const { width, height } = plan.probe;
    const tracker = new FaceTracker();
    const facesObj: FacesObj = {};
    let done = 0;
    const finish = async ({ key, time, frame, faces }: InFlight) => {
      const placed = selectFaces(
        (await faces).map((f) => placeFace(f, width, height)),
        {
          singleFace: options.singleFace,
          minConfidence: options.minConfidence ?? this.options.scoreThreshold,
        },
      );
      const { ids, removed } = tracker.update(placed.map((p) => ({ box: p.region, landmarks: p.landmarks })));
      const result = toFrameFaces(placed, { faceIds: ids, removed, frameTime: time });
      if (options.returnFaceUrl) {
        await this.crops.cropFrame(job.id, key, result, frame, options.expandRatio, { width, height });
      }
      facesObj[key] = result;
      this.metrics.frames.inc();
      this.metrics.faces.inc(placed.length);
      await job.updateProgress({ frames_done: ++done, frames_total: total });
    };
    // Crops are cut from larger frames than detection alone needs, but never from unbounded ones.
    const maxSide = options.returnFaceUrl ? (this.options.cropMaxSide ?? 1920) : undefined;
    const inFlight: InFlight[] = [];
    try {
      for await (const { key, time, frame } of this.pipeline.frames(input, plan, signal, maxSide)) {
        const faces = this.detector.detectRaw(frame, width, height, options.minConfidence);
        // Awaited in turn by finish(); until then a failure must not count as unhandled.
        faces.catch(() => {});
        inFlight.push({ key, time, frame, faces });
        if (inFlight.length >= (this.options.parallelFrames ?? 1)) await finish(inFlight.shift()!);
      }
      for (let next = inFlight.shift(); next; next = inFlight.shift()) await finish(next);
    } finally {
      // A failure leaves detections running; they must end before the job does, and not as unhandled.
      await Promise.allSettled(inFlight.map((f) => f.faces));
    }
    return facesObj;
  }
}
