import { DETECTOR_FAMILIES } from '../../shared/detectors/detector-families.js';
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
 * Score above which a detection is evidence for the turn it was found at. YuNet sees a real face at a wrong
 * quarter turn too, and then scores it 0.58 (median) to 0.72 (third quartile), against 0.84 at its own
 * turn; false detections score 0.48 (median) to 0.71 (ninth decile). Measured on crowd-dev, all four turns
 * of every fourth photo: above 0.7 a detection is mostly a face at its own turn, below it as often not.
 */
const EVIDENCE_FROM = DETECTOR_FAMILIES.yunet.scores.evidenceFrom;

/**
 * Evidence one face gives for `turn`: its score's excess over `from` (the family's, EVIDENCE_FROM for
 * YuNet), so a marginal detection weighs little; nothing when its own landmarks do not stand upright at
 * that turn (see standsUpright).
 */
export function faceEvidence(face: FaceBox, turn: QuarterTurn, from: number = EVIDENCE_FROM): number {
  return standsUpright(face.landmarks, turn) ? Math.max(0, face.score - from) : 0;
}

/** The evidence of all faces found at `turn` for it. */
export function turnEvidence(
  faces: readonly FaceBox[],
  turn: QuarterTurn,
  from: number = EVIDENCE_FROM,
): number {
  return faces.reduce((sum, face) => sum + faceEvidence(face, turn, from), 0);
}

/**
 * Whether a face's landmarks (picture pixels, subject's order) stand upright in the picture turned
 * clockwise by `turn`: its eye line within 45° of the horizontal, left eye on the left, and the line from
 * the eyes' midpoint to the mouth's within 45° of straight down. That is the quarter turn nearest the
 * face's own, so a tilted head still counts fully, while eyes beside or below the mouth do not count.
 * Only a veto: YuNet draws landmarks toward an upright face, so a face it sees at a wrong turn often has
 * upright landmarks too (an upside-down portrait scored 0.89 with them).
 */
export function standsUpright(landmarks: readonly number[], turn: QuarterTurn): boolean {
  const l = landmarks;
  if (l.length < 10) return false;
  const [ex, ey] = turned(turn, l[2]! - l[0]!, l[3]! - l[1]!);
  const [dx, dy] = turned(turn, (l[6]! + l[8]! - l[0]! - l[2]!) / 2, (l[7]! + l[9]! - l[1]! - l[3]!) / 2);
  return ex > Math.abs(ey) && dy > Math.abs(dx);
}

/** A vector of the picture as it points in the picture turned clockwise by `turn` (y downwards). */
function turned(turn: QuarterTurn, x: number, y: number): [number, number] {
  if (turn === 90) return [-y, x];
  if (turn === 180) return [-x, -y];
  if (turn === 270) return [y, -x];
  return [x, y];
}

/** The turn with the most evidence; ties go to the smaller turn, so upright wins a tie. */
export function strongestTurn<T extends { turn: QuarterTurn; evidence: number }>(turns: readonly T[]): T {
  return turns.reduce((best, t) =>
    t.evidence > best.evidence || (t.evidence === best.evidence && t.turn < best.turn) ? t : best,
  );
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
