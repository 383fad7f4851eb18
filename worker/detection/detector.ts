import type { FaceBox, RawImage } from './face-types.js';
import type { View } from './view-transform.js';

/** One model run: a picture, seen through a view (a quarter turn, then optionally a mirror). */
export interface DetectorInput {
  image: RawImage;
  view: View;
}

/**
 * A face detector: pictures in, faces with 5 landmarks and scores out, in each input picture's own pixels
 * (the view undone), landmarks in the subject's order. YuNet is one; the multi-scale search, orientation
 * and attributes around it do not depend on which.
 */
export interface Detector {
  /**
   * Faces per input, scoring at least `scoreThreshold`, unmerged. Requests of one `group` (the picture
   * they look at), asked for together, may share a model run; requests of different groups never do, so
   * a picture's answer does not depend on what else is being detected.
   */
  detect(inputs: DetectorInput[], scoreThreshold: number, group?: object): Promise<FaceBox[][]>;
}
