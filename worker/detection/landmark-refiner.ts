import type { Detector } from './detector.js';
import type { FaceBox } from './face-types.js';
import type { ImagePyramid } from './image-pyramid.js';
import { regionToPicture, sampleRegion } from './resample.js';
import { faceSquare, findCentredFace } from './turn-choice.js';

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
  /** Least score of a face seen again (the search's hint threshold). */
  threshold: number;
}

/**
 * Sees each face again, turned upright by its eye line and at a size the model sees best, directly and
 * mirrored, and averages the two views' landmarks. YuNet's landmarks are drawn toward an upright face
 * (a face turned 20° reads as 15°) and are left-right biased (a portrait read 12.6° of yaw, its mirror
 * image 0.8°): the aligned view removes the first, the mirror average the second, so pose and landmarks
 * follow the face. Boxes and scores stay as the search found them.
 */
export class LandmarkRefiner {
  constructor(
    private readonly detector: Detector,
    private readonly options: LandmarkRefinerOptions,
  ) {}

  async refine(pyramid: ImagePyramid, faces: readonly FaceBox[]): Promise<FaceBox[]> {
    const bySize = [...faces].sort((a, b) => b.w * b.h - a.w * a.h);
    const limit = this.options.maxFaces ?? 32;
    return Promise.all(
      bySize.map((face, i) => (i < limit ? this.refineOne(pyramid, face) : Promise.resolve(face))),
    );
  }

  private async refineOne(pyramid: ImagePyramid, face: FaceBox): Promise<FaceBox> {
    const size = this.options.size ?? 128;
    const l = face.landmarks;
    const angle = (Math.atan2(l[3]! - l[1]!, l[2]! - l[0]!) * 180) / Math.PI;
    const { image, scale } = await pyramid.levelFor(2 * Math.max(face.w, face.h), size);
    const square = faceSquare(face, scale, angle);
    const sample = sampleRegion(image, square, size, size);
    const views = await this.detector.detect(
      [
        { image: sample, view: { turn: 0, mirror: false } },
        { image: sample, view: { turn: 0, mirror: true } },
      ],
      this.options.threshold,
    );
    const seen = views.map((found) => findCentredFace(found, size)).filter((f) => f !== undefined);
    if (seen.length === 0) return face;
    const landmarks = l.map((_, i) => seen.reduce((sum, f) => sum + f.landmarks[i]!, 0) / seen.length);
    const back: number[] = [];
    for (let i = 0; i < landmarks.length; i += 2) {
      const [x, y] = regionToPicture(square, size, size, landmarks[i]!, landmarks[i + 1]!);
      back.push(x / scale, y / scale);
    }
    return { ...face, landmarks: back };
  }
}
