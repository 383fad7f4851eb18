/** A box as `[x, y, w, h]` in a picture's pixels. */
export type Rect = readonly [number, number, number, number];

export interface Detection {
  box: Rect;
  score: number;
}

/** One detection after matching: a true positive or a false one (detections on `ignore` boxes are dropped). */
export interface Scored {
  score: number;
  tp: boolean;
}

/** Ground truth of one picture, as crowd-dev's gt.json holds it: `faces` are scored, `ignore` count neither way. */
export interface Truth {
  faces: readonly Rect[];
  ignore: readonly Rect[];
}

export interface ImageMatch {
  scored: Scored[];
  /** For each face of the truth, the score of the detection matched to it, or undefined. */
  matchedScore: (number | undefined)[];
}

/** Intersection over union of two `[x, y, w, h]` boxes. */
function rectIou(a: Rect, b: Rect): number {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a[2] * a[3] + b[2] * b[3] - inter);
}

/**
 * WIDER FACE's matching of one picture: detections best first, each takes the untaken face it overlaps
 * most (IoU ≥ 0.5); an unmatched one on an `ignore` box counts neither way, any other is a false positive.
 */
export function matchImage(detections: readonly Detection[], truth: Truth, minIou = 0.5): ImageMatch {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const matchedScore: (number | undefined)[] = truth.faces.map(() => undefined);
  const scored: Scored[] = [];
  for (const det of sorted) {
    let best = -1;
    let bestIou = minIou;
    truth.faces.forEach((g, i) => {
      const o = rectIou(det.box, g);
      if (matchedScore[i] === undefined && o >= bestIou) [best, bestIou] = [i, o];
    });
    if (best >= 0) {
      matchedScore[best] = det.score;
      scored.push({ score: det.score, tp: true });
    } else if (!truth.ignore.some((g) => rectIou(det.box, g) >= minIou)) {
      scored.push({ score: det.score, tp: false });
    }
  }
  return { scored, matchedScore };
}

/** All-points interpolated average precision over the pooled detections of all pictures. */
export function averagePrecision(scored: readonly Scored[], totalFaces: number): number {
  if (totalFaces === 0) return 0;
  const sorted = [...scored].sort((a, b) => b.score - a.score);
  let tp = 0;
  const points = sorted.map((d, i) => {
    if (d.tp) tp += 1;
    return { recall: tp / totalFaces, precision: tp / (i + 1) };
  });
  for (let i = points.length - 2; i >= 0; i--)
    points[i]!.precision = Math.max(points[i]!.precision, points[i + 1]!.precision);
  let ap = 0;
  let previousRecall = 0;
  for (const point of points) {
    ap += (point.recall - previousRecall) * point.precision;
    previousRecall = point.recall;
  }
  return ap;
}

/** Lower edges of the face-size bins, in px of √(w·h) of the ground-truth box: <16, 16–32, …, ≥128. */
export const SIZE_BINS = [0, 16, 32, 64, 128] as const;

function sizeBin(face: Rect): number {
  const side = Math.sqrt(face[2] * face[3]);
  let bin = 0;
  SIZE_BINS.forEach((lower, i) => {
    if (side >= lower) bin = i;
  });
  return bin;
}

/** Found and total faces per size bin, a face counting as found when matched at a score ≥ `threshold`. */
export interface BinCounts {
  found: number[];
  total: number[];
}

export function emptyBins(): BinCounts {
  return { found: SIZE_BINS.map(() => 0), total: SIZE_BINS.map(() => 0) };
}

export function addToBins(bins: BinCounts, truth: Truth, match: ImageMatch, threshold: number): void {
  truth.faces.forEach((face, i) => {
    const bin = sizeBin(face);
    bins.total[bin] = (bins.total[bin] ?? 0) + 1;
    const score = match.matchedScore[i];
    if (score !== undefined && score >= threshold) bins.found[bin] = (bins.found[bin] ?? 0) + 1;
  });
}
