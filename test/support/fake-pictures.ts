import type { FrameFaces } from '../../shared/contract/api-contract.js';
import type { DetectedPicture } from '../../worker/detection/face-detection.service.js';
import type { RawImage } from '../../worker/detection/face-types.js';
import { ImagePyramid } from '../../worker/detection/image-pyramid.js';
import { planScales } from '../../worker/detection/scale-plan.js';
import type { QuarterTurn } from '../../worker/detection/view-transform.js';

/** Black pixels of the given size, for fakes that never look at them. */
export function blankImage(width = 4, height = 4): RawImage {
  return { data: new Uint8Array(width * height * 3), width, height, channels: 3 };
}

/**
 * A detection of a blank picture, whose pyramid is a real one of a single pass: what a detector stand-in
 * answers. Without faces, nothing reads the pyramid.
 */
export function detectedPicture(fields: Partial<Omit<DetectedPicture, 'pyramid'>> = {}): DetectedPicture {
  const { width = 4, height = 4 } = fields;
  const pyramid = new ImagePyramid(
    width,
    height,
    planScales(width, height, { maxSide: Math.max(width, height) }),
    blankImage(width, height),
    () => Promise.reject(new Error('a stand-in picture is never resized')),
  );
  return { faces: [], turn: 0, decided: false, ...fields, width, height, pyramid };
}

/** The answer for a frame without faces. */
export function noFaces(time: number | null, rotation: QuarterTurn = 0): FrameFaces {
  return {
    landmarks: [],
    landmarks_str: [],
    region: [],
    scores: [],
    face_ids: [],
    removed: [],
    frame_time: time,
    face_urls: null,
    crop_region: null,
    crop_landmarks: null,
    pose: [],
    quality: [],
    rotation,
  };
}
