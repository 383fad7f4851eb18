import type { FrameFaces, Pose, Quality } from '../../shared/contract/api-contract.js';
import type { DetectOptions } from '../../shared/contract/detect-job.contract.js';
import type { WorkerMetrics } from '../../shared/metrics/metrics.js';
import type { DetectedPicture } from '../detection/face-detection.service.js';
import { faceQuality, QUALITY_SIDE } from '../detection/face-quality.js';
import { boxOf, type RawImage } from '../detection/face-types.js';
import { placeFace, selectFaces, toFrameFaces, type PlacedFace } from '../detection/frame-faces.js';
import { pickFace } from '../detection/face-select.js';
import { faceUsability } from '../detection/face-usability.js';
import { estimatePose } from '../detection/head-pose.js';
import type { FaceTracker } from '../video/face-tracker.js';
import type { TrackBook, TrackFace } from '../video/track-book.js';
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

interface Measured {
  pose: Pose;
  quality: Quality;
  usability: number;
}

/** The per-frame step as the frame pipeline uses it. */
export type FrameSteps = Pick<FrameStepService, 'finish'>;

/**
 * The one per-frame step, for images and videos alike: selects the request's faces, tracks them across
 * frames, adds pose and quality, cuts crops, and counts metrics.
 */
export class FrameStepService {
  constructor(
    private readonly crops: Pick<CropService, 'cropFrame' | 'cropFaces'>,
    private readonly metrics: WorkerMetrics,
    private readonly options: FrameStepOptions,
  ) {}

  async finish(
    jobId: string,
    frame: StepFrame,
    detected: DetectedPicture,
    tracker: FaceTracker,
    options: DetectOptions,
    /** A video's tracks, which get every face of the frame. */
    book?: TrackBook,
  ): Promise<FrameFaces> {
    const { width, height } = detected;
    const found = detected.faces.map((f) => placeFace(f, width, height));
    const filters = {
      singleFace: options.singleFace,
      minConfidence: options.minConfidence ?? this.options.scoreThreshold,
      minFaceSize: options.minFaceSize,
      maxFaces: options.maxFaces,
    };
    const all = selectFaces(found, { ...filters, singleFace: false, maxFaces: undefined });
    const measured = new Map<PlacedFace, Measured>();
    const measure = (faces: readonly PlacedFace[]) => this.measure(faces, detected, measured);
    let placed: PlacedFace[];
    if (options.faceSelect === undefined) {
      placed = selectFaces(found, filters);
    } else {
      if (options.faceSelect === 'best') await measure(all);
      const one = pickFace(all, options.faceSelect, detected, (f) => measured.get(f)!.usability);
      placed = one ? [one] : [];
    }
    await measure(book ? all : placed);
    const { ids, removed } = tracker.update(placed.map((p) => ({ box: p.region, landmarks: p.landmarks })));
    const result = toFrameFaces(placed, {
      faceIds: ids,
      removed,
      frameTime: frame.time,
      pose: placed.map((p) => measured.get(p)!.pose),
      quality: placed.map((p) => measured.get(p)!.quality),
      rotation: detected.turn,
    });
    const source = options.returnFaceUrl ? await frame.cropSource(detected) : undefined;
    if (source) {
      await this.crops.cropFrame(jobId, frame.key, result, source, options.expandRatio, { width, height });
    }
    if (book && frame.time !== null) {
      const faces = all.map((f) => ({
        region: f.region,
        landmarks: f.landmarks,
        score: f.score,
        ...measured.get(f)!,
        answerIndex: placed.indexOf(f),
      }));
      const time = frame.time;
      await this.addToBook(
        book,
        { ...frame, time },
        faces,
        source && { jobId, pixels: source, detected, options },
      );
    }
    this.metrics.frames.inc();
    this.metrics.faces.inc(placed.length);
    return result;
  }

  /**
   * Adds a frame's faces to its video's tracks. With crops asked for, a track's best face that the
   * selection dropped gets a crop of its own, named apart from the answer's (`track_<id>`).
   */
  private async addToBook(
    book: TrackBook,
    frame: StepFrame & { time: number },
    faces: TrackFace[],
    crops?: { jobId: string; pixels: RawImage; detected: DetectedPicture; options: DetectOptions },
  ): Promise<void> {
    const unlinked = book.add(frame.key, frame.time, faces);
    if (!crops || unlinked.length === 0) return;
    const { jobId, pixels, detected, options } = crops;
    const size = { width: detected.width, height: detected.height };
    // One crop per track, named by its id, so a better face later overwrites it: at most one per track.
    await Promise.all(
      unlinked.map(async ({ trackId, face }) => {
        const cut = await this.crops.cropFaces(
          jobId,
          'track',
          [face.region],
          pixels,
          options.expandRatio,
          size,
          trackId,
        );
        face.cropUrl = cut.urls[0];
      }),
    );
  }

  /** Pose, quality and usability of each face not yet in `into`. */
  private async measure(
    faces: readonly PlacedFace[],
    { pyramid }: DetectedPicture,
    into: Map<PlacedFace, Measured>,
  ): Promise<void> {
    await Promise.all(
      faces
        .filter((f) => !into.has(f))
        .map(async (face) => {
          const { region } = face;
          const level = await pyramid.levelFor(Math.min(region[2], region[3]), QUALITY_SIDE);
          const quality = faceQuality(level.image, boxOf(region), level.scale);
          const pose = estimatePose(pairs(face.source.landmarks));
          into.set(face, { pose, quality, usability: faceUsability({ region, pose, quality }) });
        }),
    );
  }
}

function pairs(flat: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}
