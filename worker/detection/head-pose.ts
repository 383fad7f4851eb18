/** Head pose in degrees (see {@link estimatePose} for the conventions). */
export interface HeadPose {
  yaw: number;
  pitch: number;
  roll: number;
}

type Vec3 = [number, number, number];

/**
 * A generic face at the five landmarks, in units of the eye distance: x to image-right, y down, z away from
 * the camera, origin between the eyes. Proportions of an average adult face (eye distance 63 mm, nose tip
 * 38 mm below the eyes and 25 mm in front of them, mouth corners 25 mm off-centre, 66 mm below and 6 mm in
 * front). Checked against YuNet's landmarks: near-frontal portraits in the fixtures read a pitch
 * within ±8°.
 */
export const GENERIC_FACE: readonly Vec3[] = [
  [-0.5, 0, 0],
  [0.5, 0, 0],
  [0, 0.6, -0.4],
  [-0.4, 1.05, -0.1],
  [0.4, 1.05, -0.1],
];

const DEG = 180 / Math.PI;

/**
 * Head pose from the five landmarks `[x, y]` (left eye, right eye, nose tip, left and right mouth corner,
 * in the subject's order), in degrees:
 * - roll: the face's turn from upright within the picture, positive clockwise as seen; ±180 upside down;
 * - yaw: positive when the face turns toward image-right; pitch: positive when it tilts up.
 * All three come from a weak-perspective fit of the points to {@link GENERIC_FACE}: the affine map from
 * the model to the picture, least squares over the five points, replaced by the nearest pair of
 * orthonormal rows (its polar factor), read as R = Rroll · Rpitch · Ryaw (yaw applied first). Without yaw
 * and pitch, roll is the eye line's angle.
 *
 * Both steps commute with what a picture may undergo: turning the points by θ turns the affine map and its
 * polar factor by θ, which adds exactly θ to roll; mirroring them (and swapping left and right) mirrors
 * the map, which negates yaw and roll, as the model is symmetric. Normalising the rows one at a time, as
 * this did before, does not commute with a turn: turning the same points by 20° added up to 0.6° too much or
 * too little on the development portraits (test/fixtures/pose-dev).
 *
 * Limits: five points are few and one face is not the generic one, so expect ±10° on yaw and pitch for a
 * near-frontal face, more past 45° of yaw, where the far eye's landmark is a guess.
 */
export function estimatePose(points: readonly (readonly [number, number])[]): HeadPose {
  const a = fitAffine(points, GENERIC_FACE);
  if (!a) return { yaw: 0, pitch: 0, roll: 0 };
  const rows = nearestOrthonormal(a[0], a[1]);
  if (!rows) return { yaw: 0, pitch: 0, roll: 0 };
  const [row0, row1] = rows;
  const row2 = cross(row0, row1);
  const pitch = Math.asin(Math.max(-1, Math.min(1, -row2[1]))) * DEG;
  const yaw = Math.atan2(row2[0], row2[2]) * DEG;
  const roll = Math.atan2(-row0[1], row1[1]) * DEG;
  return { yaw: round1(yaw), pitch: round1(pitch), roll: round1(roll) };
}

/** Least-squares A (2×3) with picture ≈ A · model + t, over centred points; undefined if degenerate. */
function fitAffine(points: readonly (readonly [number, number])[], model: readonly Vec3[]) {
  const n = Math.min(points.length, model.length);
  const mean = (f: (i: number) => number) =>
    Array.from({ length: n }, (_, i) => f(i)).reduce((s, v) => s + v, 0) / n;
  const px = mean((i) => points[i]![0]);
  const py = mean((i) => points[i]![1]);
  const m: Vec3 = [mean((i) => model[i]![0]), mean((i) => model[i]![1]), mean((i) => model[i]![2])];
  const mtm = new Array<number>(9).fill(0);
  const xtm = [new Array<number>(3).fill(0), new Array<number>(3).fill(0)];
  for (let i = 0; i < n; i++) {
    const q = sub(model[i]!, m);
    const p = [points[i]![0] - px, points[i]![1] - py];
    for (let r = 0; r < 3; r++) {
      for (let k = 0; k < 3; k++) mtm[3 * r + k] = mtm[3 * r + k]! + q[r]! * q[k]!;
      xtm[0]![r] = xtm[0]![r]! + p[0]! * q[r]!;
      xtm[1]![r] = xtm[1]![r]! + p[1]! * q[r]!;
    }
  }
  const inv = invert3(mtm);
  if (!inv) return undefined;
  const times = (v: number[]): Vec3 =>
    [0, 1, 2].map((k) => v[0]! * inv[k]! + v[1]! * inv[3 + k]! + v[2]! * inv[6 + k]!) as Vec3;
  return [times(xtm[0]!), times(xtm[1]!)] as const;
}

/**
 * (A·Aᵀ)^-½ · A for the 2×3 A with rows `a0`, `a1`: the orthonormal rows closest to them, least squares.
 * Uses √S = (S + √det S · I) / √(tr S + 2√det S) for the symmetric positive 2×2 S = A·Aᵀ.
 */
function nearestOrthonormal(a0: Vec3, a1: Vec3): [Vec3, Vec3] | undefined {
  const [p, q, r] = [dot(a0, a0), dot(a0, a1), dot(a1, a1)];
  const rootDet = Math.sqrt(Math.max(0, p * r - q * q));
  const norm = Math.sqrt(p + r + 2 * rootDet);
  if (rootDet < 1e-12 || norm < 1e-12) return undefined;
  // √S = [[p + rootDet, q], [q, r + rootDet]] / norm, whose inverse is below; det √S = rootDet.
  const [s00, s01, s11] = [
    (r + rootDet) / norm / rootDet,
    -q / norm / rootDet,
    (p + rootDet) / norm / rootDet,
  ];
  return [add(scale(a0, s00), scale(a1, s01)), add(scale(a0, s01), scale(a1, s11))];
}

function invert3(m: number[]): number[] | undefined {
  const [a, b, c, d, e, f, g, h, i] = m as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  if (Math.abs(det) < 1e-12) return undefined;
  return [
    (e * i - f * h) / det,
    (c * h - b * i) / det,
    (b * f - c * e) / det,
    (f * g - d * i) / det,
    (a * i - c * g) / det,
    (c * d - a * f) / det,
    (d * h - e * g) / det,
    (b * g - a * h) / det,
    (a * e - b * d) / det,
  ];
}

const add = (u: Vec3, v: Vec3): Vec3 => [u[0] + v[0], u[1] + v[1], u[2] + v[2]];
const sub = (u: Vec3, v: Vec3): Vec3 => [u[0] - v[0], u[1] - v[1], u[2] - v[2]];
const scale = (u: Vec3, k: number): Vec3 => [u[0] * k, u[1] * k, u[2] * k];
const dot = (u: Vec3, v: Vec3) => u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
const cross = (u: Vec3, v: Vec3): Vec3 => [
  u[1] * v[2] - u[2] * v[1],
  u[2] * v[0] - u[0] * v[2],
  u[0] * v[1] - u[1] * v[0],
];
const round1 = (v: number) => Math.round(v * 10) / 10 || 0;
