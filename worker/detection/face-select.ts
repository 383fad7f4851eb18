import type { Region } from '../../shared/contract/api-contract.js';
import type { FaceSelect } from '../../shared/contract/detect-job.contract.js';

/**
 * InsightFace's choice of the main face: area − 2 · (distance from the face's centre to the image's
 * centre)², all in pixels, so a large face near the middle beats a larger one at the edge.
 */
export function centreLargestValue(region: Region, width: number, height: number): number {
  const dx = region[0] + region[2] / 2 - width / 2;
  const dy = region[1] + region[3] / 2 - height / 2;
  return region[2] * region[3] - 2 * (dx * dx + dy * dy);
}

/**
 * The one face `rule` keeps of a frame's faces; ties go to the earlier face (faces come largest first).
 * `usability` is asked only by the "best" rule.
 */
export function pickFace<T extends { region: Region }>(
  faces: readonly T[],
  rule: FaceSelect,
  image: { width: number; height: number },
  usability: (face: T) => number,
): T | undefined {
  const value = (face: T): number => {
    switch (rule) {
      case 'largest':
        return face.region[2] * face.region[3];
      case 'center_largest':
        return centreLargestValue(face.region, image.width, image.height);
      case 'best':
        return usability(face);
    }
  };
  let chosen: T | undefined;
  let best = -Infinity;
  for (const face of faces) {
    const v = value(face);
    if (v > best) {
      best = v;
      chosen = face;
    }
  }
  return chosen;
}
