import type { Detector } from './detector.js';
import type { FaceBox } from './face-types.js';
import type { ImagePyramid } from './image-pyramid.js';
import { sampleSquare, squareToPicture, type Square } from './resample.js';
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
    private readonly options: LandmarkRefinerOptions = {},
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
    const scale = pyramid.finest.width / pyramid.width;
    const l = face.landmarks;
    const square: Square = {
      cx: (face.x + face.w / 2) * scale,
      cy: (face.y + face.h / 2) * scale,
      side: 2 * Math.max(face.w, face.h) * scale,
      angle: (Math.atan2(l[3]! - l[1]!, l[2]! - l[0]!) * 180) / Math.PI,
    };
    const sample = sampleSquare(pyramid.finest, square, size);
    const views = await this.detector.detect(
      [
        { image: sample, view: { turn: 0, mirror: false } },
        { image: sample, view: { turn: 0, mirror: true } },
      ],
      0.3,
    );
    const seen = views.map((found) => findCentredFace(found, size)).filter((f) => f !== undefined);
    if (seen.length === 0) return face;
    const landmarks = l.map((_, i) => seen.reduce((sum, f) => sum + f.landmarks[i]!, 0) / seen.length);
    const back: number[] = [];
    for (let i = 0; i < landmarks.length; i += 2) {
      const [x, y] = squareToPicture(square, size, landmarks[i]!, landmarks[i + 1]!);
      back.push(x / scale, y / scale);
    }
    return { ...face, landmarks: back };
  }
}
