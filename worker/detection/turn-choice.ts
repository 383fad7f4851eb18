import { faceSize, type Box, type FaceBox } from './face-types.js';
import type { Region } from './resample.js';
import { QUARTER_TURNS, type QuarterTurn } from './view-transform.js';

/** One candidate face's verdict: the turn under which the model sees it best, and that score. */
export interface TurnVote {
  turn: QuarterTurn;
  score: number;
}

/**
 * The turn most supported by votes of at least `minEvidence`, weighted by score; ties go to the smaller
 * turn, so upright wins a tie. Undefined when no vote is strong enough to decide.
 */
export function chooseTurn(votes: readonly TurnVote[], minEvidence: number): QuarterTurn | undefined {
  const support = new Map<QuarterTurn, number>();
  for (const { turn, score } of votes)
    if (score >= minEvidence) support.set(turn, (support.get(turn) ?? 0) + score);
  let best: QuarterTurn | undefined;
  for (const turn of QUARTER_TURNS)
    if ((support.get(turn) ?? 0) > (best === undefined ? 0 : support.get(best)!)) best = turn;
  return best;
}

/**
 * The square, in some level's pixels (`scale` from the reported ones), in which a candidate is checked
 * or refined: centred on it, twice its larger side, so the face sits mid-range for the model at any
 * turn, and turned by `angle`.
 */
export function faceSquare(face: Box, scale: number, angle = 0): Region {
  const side = 2 * Math.max(face.w, face.h) * scale;
  return { cx: (face.x + face.w / 2) * scale, cy: (face.y + face.h / 2) * scale, w: side, h: side, angle };
}

/**
 * The best face found in a check square that is the candidate: centred within a quarter of the side, and
 * between a quarter and nine tenths of the side in size (the candidate fills about half).
 */
export function findCentredFace(faces: readonly FaceBox[], side: number): FaceBox | undefined {
  let best: FaceBox | undefined;
  for (const f of faces) {
    const off = Math.hypot(f.x + f.w / 2 - side / 2, f.y + f.h / 2 - side / 2);
    const size = faceSize(f);
    if (off > side / 4 || size < side / 4 || size > 0.9 * side) continue;
    if (!best || f.score > best.score) best = f;
  }
  return best;
}
