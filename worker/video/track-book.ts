import type { FacesObj, Point, Pose, Quality, Region, Track } from '../../shared/contract/api-contract.js';
import { landmarksString } from '../detection/frame-faces.js';
import { FaceTracker } from './face-tracker.js';

/** A face of a sampled frame as a track records it. */
export interface TrackFace {
  region: Region;
  landmarks: Point[];
  score: number;
  pose: Pose;
  quality: Quality;
  usability: number;
  /** Its index among the frame's faces in `faces_obj`, or −1 when the request's selection dropped it. */
  answerIndex: number;
  /** The link of its own crop, for a face the selection dropped (see `add`'s answer). */
  cropUrl?: string;
}

interface Building {
  id: number;
  firstTime: number;
  lastTime: number;
  frames: string[];
  bestFrame: string;
  best: TrackFace;
}

/**
 * Gathers a video's tracks: every face found in each sampled frame, whatever the request's selection
 * kept, followed by a tracker of its own (so `faces_obj`'s ids under `single_face` stay as they were).
 * Feed frames in order, one book per video. Its size is bounded by the frames (NUM_FRAMES ≤ 100) times
 * the detector's faces per frame.
 */
export class TrackBook {
  private readonly tracker = new FaceTracker();
  private readonly tracks = new Map<number, Building>();

  /**
   * Adds a frame's faces. Answers those that became their track's best while the request's selection
   * dropped them, with their track's id: with `return_face_url`, they need a crop of their own (their
   * `cropUrl`), as their frame's answer has none of them.
   */
  add(frame: string, time: number, faces: readonly TrackFace[]): { trackId: number; face: TrackFace }[] {
    const { ids } = this.tracker.update(faces.map((f) => ({ box: f.region, landmarks: f.landmarks })));
    const unlinked: { trackId: number; face: TrackFace }[] = [];
    faces.forEach((face, i) => {
      const id = ids[i]!;
      const track = this.tracks.get(id);
      if (!track) {
        this.tracks.set(id, {
          id,
          firstTime: time,
          lastTime: time,
          frames: [frame],
          bestFrame: frame,
          best: face,
        });
        if (face.answerIndex < 0) unlinked.push({ trackId: id, face });
        return;
      }
      track.lastTime = time;
      track.frames.push(frame);
      // Strictly better only: on a tie the earlier frame stays.
      if (face.usability > track.best.usability) {
        track.best = face;
        track.bestFrame = frame;
        if (face.answerIndex < 0) unlinked.push({ trackId: id, face });
      }
    });
    return unlinked;
  }

  /**
   * The tracks by id; a best face's crop link is read off `facesObj`, where the frame step put it, or is
   * the face's own crop when the selection dropped it.
   */
  build(facesObj: FacesObj): Track[] {
    return [...this.tracks.values()]
      .sort((a, b) => a.id - b.id)
      .map((t) => ({
        face_id: t.id,
        first_time: t.firstTime,
        last_time: t.lastTime,
        frames: t.frames,
        best: {
          frame: t.bestFrame,
          region: t.best.region,
          landmarks: t.best.landmarks,
          landmarks_str: landmarksString(t.best.landmarks),
          score: t.best.score,
          usability: t.best.usability,
          pose: t.best.pose,
          quality: t.best.quality,
          face_url:
            t.best.answerIndex < 0
              ? (t.best.cropUrl ?? null)
              : (facesObj[t.bestFrame]?.face_urls?.[t.best.answerIndex] ?? null),
        },
      }));
  }
}
