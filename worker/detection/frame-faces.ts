import type { FrameFaces, Point, Pose, Quality, Region } from '../../shared/contract/api-contract.js';
import type { FaceBox } from './face-types.js';
import type { QuarterTurn } from './view-transform.js';

/** A face in the answer's integer pixel space, before ids are assigned. */
export interface PlacedFace {
  region: Region;
  /** left eye, right eye, nose tip, mouth centre, left mouth corner, right mouth corner (subject's order). */
  landmarks: Point[];
  score: number;
  /** The detector's face it was placed from, unrounded. */
  source: FaceBox;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Rounds a face to integer pixels clamped to the image and expands YuNet's 5 landmarks to the contract's 6. */
export function placeFace(face: FaceBox, width: number, height: number): PlacedFace {
  const x0 = clamp(Math.round(face.x), 0, width);
  const y0 = clamp(Math.round(face.y), 0, height);
  const x1 = clamp(Math.round(face.x + face.w), 0, width);
  const y1 = clamp(Math.round(face.y + face.h), 0, height);
  const l = face.landmarks;
  const pt = (x: number, y: number): Point => [
    clamp(Math.round(x), 0, width - 1),
    clamp(Math.round(y), 0, height - 1),
  ];
  return {
    region: [x0, y0, x1 - x0, y1 - y0],
    landmarks: [
      pt(l[0]!, l[1]!),
      pt(l[2]!, l[3]!),
      pt(l[4]!, l[5]!),
      pt((l[6]! + l[8]!) / 2, (l[7]! + l[9]!) / 2),
      pt(l[6]!, l[7]!),
      pt(l[8]!, l[9]!),
    ],
    score: Math.round(face.score * 10_000) / 10_000,
    source: face,
  };
}

export interface SelectOptions {
  /** Keep only the largest face. */
  singleFace: boolean;
  /** Drop faces scoring below this. */
  minConfidence: number;
  /** Drop faces whose region's shorter side is below this. */
  minFaceSize?: number;
  /** Keep at most this many, largest first. */
  maxFaces?: number;
}

/** Orders faces by region area, largest first (ties: higher score first), then applies the request's filters. */
export function selectFaces(faces: readonly PlacedFace[], options: SelectOptions): PlacedFace[] {
  const minSide = Math.max(1, options.minFaceSize ?? 0);
  const kept = faces
    .filter((f) => f.score >= options.minConfidence && Math.min(f.region[2], f.region[3]) >= minSide)
    .sort((a, b) => b.region[2] * b.region[3] - a.region[2] * a.region[3] || b.score - a.score);
  return kept.slice(0, options.singleFace ? 1 : (options.maxFaces ?? kept.length));
}

export function landmarksString(landmarks: readonly Point[]): string {
  return landmarks
    .slice(0, 4)
    .map(([x, y]) => `${x},${y}`)
    .join(':');
}

export interface FrameExtras {
  faceIds: number[];
  removed: number[];
  frameTime: number | null;
  /** Per face, in the order of the faces. */
  pose: Pose[];
  quality: Quality[];
  rotation: QuarterTurn;
}

/** Assembles one frame of the answer; every per-face array follows the order of `faces`. */
export function toFrameFaces(faces: readonly PlacedFace[], extras: FrameExtras): FrameFaces {
  return {
    landmarks: faces.map((f) => f.landmarks),
    landmarks_str: faces.map((f) => landmarksString(f.landmarks)),
    region: faces.map((f) => f.region),
    scores: faces.map((f) => f.score),
    face_ids: extras.faceIds,
    removed: extras.removed,
    frame_time: extras.frameTime,
    face_urls: null,
    crop_region: null,
    crop_landmarks: null,
    pose: extras.pose,
    quality: extras.quality,
    rotation: extras.rotation,
  };
}
