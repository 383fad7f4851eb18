import type { Detector } from './detector.js';
import type { FaceBox } from './face-types.js';
import type { ImagePyramid } from './image-pyramid.js';
import { regionToPicture, sampleRegion } from './resample.js';
import { findCentredFace } from './turn-choice.js';

export interface LandmarkRefinerOptions {
  /**
   * Side of the aligned square a face is seen again in, pixels; the face fills about half of it.
   * @defaultValue 128
   */
  size?: number;
  /**
   * Faces refined per picture, largest first; the others keep the search's landmarks.
   * @defaultValue 32
   */
  maxFaces?: number;
  /**
   * Most views of a face, each framed by the last, before its landmarks are taken as they are.
   * @defaultValue 4
   */
  maxRounds?: number;
  /**
   * Faces, largest first, that are seen again until their frame settles; the others are seen once. Each
   * view costs two model runs, and a crowd's small faces have landmarks too coarse to gain from more
   * (figures: BENCHMARKS.md, "Measured behind the code").
   * @defaultValue 4
   */
  settledFaces?: number;
  /** Least score of a face seen again (the search's hint threshold). */
  threshold: number;
}

/** Where a face is seen again: centre and side in the reported picture's pixels, and the eye line's angle. */
interface Frame {
  cx: number;
  cy: number;
  side: number;
  angle: number;
}

/**
 * Sees each face again, turned upright by its eye line and at a size the model sees best, directly and
 * mirrored, and averages the two views' landmarks; then again, framed by what that view saw, until the
 * frame settles. YuNet's landmarks are drawn toward an upright face (a face turned 20° reads as 15°) and
 * are left-right biased (a portrait read 12.6° of yaw, its mirror image 0.8°): the aligned view removes
 * most of the first, the mirror average the second. One view is not enough: it is framed by the search's
 * box, which is not the box of the face turned upright (a turned face's box is larger), nor the mirror of
 * the box found in a mirrored picture, and its angle keeps part of the bias. Framed by the aligned views'
 * own box and eye line, the view comes out the same whichever way the picture was turned or mirrored, as
 * the pose test on test/fixtures/pose-dev checks (figures: BENCHMARKS.md, "Measured behind the code"). Boxes and scores stay as the
 * search found them.
 */
export class LandmarkRefiner {
  constructor(
    private readonly detector: Detector,
    private readonly options: LandmarkRefinerOptions,
  ) {}

  async refine(pyramid: ImagePyramid, faces: readonly FaceBox[]): Promise<FaceBox[]> {
    const bySize = [...faces].sort((a, b) => b.w * b.h - a.w * a.h);
    const limit = this.options.maxFaces ?? 32;
    const settled = this.options.settledFaces ?? 4;
    const rounds = this.options.maxRounds ?? 4;
    return Promise.all(
      bySize.map((face, i) =>
        i < limit ? this.refineOne(pyramid, face, i < settled ? rounds : 1) : Promise.resolve(face),
      ),
    );
  }

  private async refineOne(pyramid: ImagePyramid, face: FaceBox, rounds: number): Promise<FaceBox> {
    let frame: Frame = {
      cx: face.x + face.w / 2,
      cy: face.y + face.h / 2,
      side: 2 * Math.max(face.w, face.h),
      angle: eyeLine(face.landmarks),
    };
    let landmarks = face.landmarks;
    for (let round = 0; round < rounds; round++) {
      const seen = await this.seeAgain(pyramid, frame);
      if (!seen) break;
      landmarks = seen.landmarks;
      if (settled(frame, seen.frame)) break;
      frame = seen.frame;
    }
    return { ...face, landmarks };
  }

  /** The face seen in `frame`, directly and mirrored: the views' mean landmarks and the frame they make. */
  private async seeAgain(pyramid: ImagePyramid, frame: Frame) {
    const size = this.options.size ?? 128;
    const { image, scale } = await pyramid.levelFor(frame.side, size);
    const side = frame.side * scale;
    const square = { cx: frame.cx * scale, cy: frame.cy * scale, w: side, h: side, angle: frame.angle };
    const sample = sampleRegion(image, square, size, size);
    const views = await this.detector.detect(
      [
        { image: sample, view: { turn: 0, mirror: false } },
        { image: sample, view: { turn: 0, mirror: true } },
      ],
      this.options.threshold,
      pyramid,
    );
    const seen = views.map((found) => findCentredFace(found, size)).filter((f) => f !== undefined);
    if (seen.length === 0) return undefined;
    const mean = (value: (f: FaceBox) => number) => seen.reduce((sum, f) => sum + value(f), 0) / seen.length;
    const toPicture = (u: number, v: number) =>
      regionToPicture(square, size, size, u, v).map((c) => c / scale) as [number, number];
    const landmarks = seen[0]!.landmarks.map((_, i) => mean((f) => f.landmarks[i]!));
    const back: number[] = [];
    for (let i = 0; i + 1 < landmarks.length; i += 2)
      back.push(...toPicture(landmarks[i]!, landmarks[i + 1]!));
    const [cx, cy] = toPicture(
      mean((f) => f.x + f.w / 2),
      mean((f) => f.y + f.h / 2),
    );
    // Twice the face, as the first frame, but from a box the model drew around the face upright.
    const faceSide = (mean((f) => Math.sqrt(f.w * f.h)) * frame.side) / size;
    return { landmarks: back, frame: { cx, cy, side: 2 * faceSide, angle: eyeLine(back) } };
  }
}

/** The angle of the line from the first landmark (an eye) to the second, degrees clockwise as seen. */
function eyeLine(l: readonly number[]): number {
  return (Math.atan2(l[3]! - l[1]!, l[2]! - l[0]!) * 180) / Math.PI;
}

/** Whether a new frame is close enough to the last that seeing the face again would change nothing. */
function settled(a: Frame, b: Frame): boolean {
  const turn = Math.abs(((b.angle - a.angle + 540) % 360) - 180);
  return (
    turn < 1 && Math.hypot(b.cx - a.cx, b.cy - a.cy) < 0.02 * a.side && Math.abs(b.side / a.side - 1) < 0.04
  );
}
