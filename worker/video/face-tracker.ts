import { boxOf, iou } from '../detection/face-types.js';

/** A face as the detector reports it, in the displayed frame's pixels. */
export interface TrackableFace {
  /** `[x, y, w, h]`, top-left corner and size. */
  box: readonly [number, number, number, number];
  /** The detector's landmarks, `[x, y]` each, in a fixed order (5 or 6 points). */
  landmarks: readonly (readonly [number, number])[];
}

export interface TrackUpdate {
  /** One id per input face, in input order. */
  ids: number[];
  /** Ids present in the previous sampled frame and absent from this one, ascending. */
  removed: number[];
}

export interface FaceTrackerOptions {
  /**
   * Least box overlap (IoU) for a face to keep its id from the previous sampled frame. Samples can be
   * seconds apart, so overlap is the evidence that it is the same person; across a scene cut boxes do
   * not overlap and everyone gets a new id. Default 0.3.
   */
  minIou?: number;
  /**
   * Largest mean landmark displacement, as a fraction of the face's size (square root of the mean box
   * area), for a face to keep its id. It refuses a neighbour whose box overlaps but whose features sit
   * elsewhere. Default 0.5.
   */
  maxLandmarkShift?: number;
}

interface Track {
  id: number;
  face: TrackableFace;
}

/**
 * Gives the faces of one video's sampled frames ids that stay stable while a person stays visible.
 * Each frame is matched only against the previous sampled frame: a face missing from one sample is
 * reported in `removed` and gets a new id if it comes back, and ids are never reused. Use one tracker
 * per video, feeding frames in order.
 *
 * Matching is greedy on cost = (1 − IoU) + landmark shift over the pairs that pass both gates. With a
 * handful of faces per frame and strict gates, pairs rarely compete, and greedy then equals the optimal
 * assignment.
 */
export class FaceTracker {
  private readonly minIou: number;
  private readonly maxLandmarkShift: number;
  private tracks: Track[] = [];
  private nextId = 0;

  constructor(options: FaceTrackerOptions = {}) {
    this.minIou = options.minIou ?? 0.3;
    this.maxLandmarkShift = options.maxLandmarkShift ?? 0.5;
  }

  update(faces: readonly TrackableFace[]): TrackUpdate {
    const pairs: { track: number; face: number; cost: number }[] = [];
    this.tracks.forEach((track, t) => {
      faces.forEach((face, f) => {
        const overlap = iou(boxOf(track.face.box), boxOf(face.box));
        const shift = landmarkShift(track.face, face);
        if (overlap >= this.minIou && shift <= this.maxLandmarkShift) {
          pairs.push({ track: t, face: f, cost: 1 - overlap + shift });
        }
      });
    });
    pairs.sort((a, b) => a.cost - b.cost || a.track - b.track || a.face - b.face);

    const ids = new Array<number | undefined>(faces.length).fill(undefined);
    const matchedTracks = new Set<number>();
    for (const pair of pairs) {
      if (matchedTracks.has(pair.track) || ids[pair.face] !== undefined) continue;
      matchedTracks.add(pair.track);
      ids[pair.face] = this.tracks[pair.track]?.id;
    }
    const current = faces.map((face, f) => ({ id: ids[f] ?? this.nextId++, face }));

    const removed = this.tracks
      .filter((_, t) => !matchedTracks.has(t))
      .map((track) => track.id)
      .sort((a, b) => a - b);
    this.tracks = current;
    return { ids: current.map((track) => track.id), removed };
  }
}

/**
 * Mean distance between corresponding landmarks, over the face's size. Without landmarks on both sides
 * the box centres stand in for them.
 */
function landmarkShift(a: TrackableFace, b: TrackableFace): number {
  const size = Math.sqrt((a.box[2] * a.box[3] + b.box[2] * b.box[3]) / 2);
  if (size <= 0) return Infinity;
  const count = Math.min(a.landmarks.length, b.landmarks.length);
  const pointsA = count > 0 ? a.landmarks.slice(0, count) : [centre(a.box)];
  const pointsB = count > 0 ? b.landmarks.slice(0, count) : [centre(b.box)];
  let total = 0;
  pointsA.forEach((p, i) => {
    const q = pointsB[i] ?? p;
    total += Math.hypot(p[0] - q[0], p[1] - q[1]);
  });
  return total / pointsA.length / size;
}

function centre(box: TrackableFace['box']): readonly [number, number] {
  return [box[0] + box[2] / 2, box[1] + box[3] / 2];
}
