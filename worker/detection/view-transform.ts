import type { FaceBox } from './face-types.js';

/** A clockwise quarter turn, in degrees. */
export type QuarterTurn = 0 | 90 | 180 | 270;
export const QUARTER_TURNS: readonly QuarterTurn[] = [0, 90, 180, 270];

/**
 * How the detector sees a picture: turned clockwise by `turn`, then, if `mirror`, flipped left to right.
 * Building the model's input through a view costs nothing beyond building it at all, so no turned or
 * mirrored copy of the pixels is ever made.
 */
export interface View {
  turn: QuarterTurn;
  mirror: boolean;
}

export const UPRIGHT: View = { turn: 0, mirror: false };

export function viewSize(turn: QuarterTurn, width: number, height: number) {
  return turn === 90 || turn === 270 ? { width: height, height: width } : { width, height };
}

/**
 * Where a picture pixel lands in the view, as an affine map of its column: for row `y`, column `x` lands at
 * view column `col0 + x·dCol`, view row `row0 + x·dRow`. Pixel indices, not edges.
 */
export function pixelMap(view: View, width: number, height: number, y: number) {
  let col0: number, row0: number, dCol: number, dRow: number;
  switch (view.turn) {
    case 0:
      [col0, row0, dCol, dRow] = [0, y, 1, 0];
      break;
    case 90:
      [col0, row0, dCol, dRow] = [height - 1 - y, 0, 0, 1];
      break;
    case 180:
      [col0, row0, dCol, dRow] = [width - 1, height - 1 - y, -1, 0];
      break;
    case 270:
      [col0, row0, dCol, dRow] = [y, width - 1, 0, -1];
      break;
  }
  if (view.mirror) {
    const viewWidth = viewSize(view.turn, width, height).width;
    [col0, dCol] = [viewWidth - 1 - col0, -dCol];
  }
  return { col0, row0, dCol, dRow };
}

/** A point of the view (continuous coordinates) in the picture's. */
export function pointToPicture(view: View, width: number, height: number, vx: number, vy: number) {
  const x = view.mirror ? viewSize(view.turn, width, height).width - vx : vx;
  switch (view.turn) {
    case 0:
      return [x, vy] as const;
    case 90:
      return [vy, height - x] as const;
    case 180:
      return [width - x, height - vy] as const;
    case 270:
      return [width - vy, x] as const;
  }
}

/**
 * A face found in the view, in the picture's pixels. A turn keeps the landmarks' order: the model names
 * the eyes as it sees the face upright, which is the subject's order. A mirror swaps which eye and mouth
 * corner is image-left, so those pairs swap back.
 */
export function faceToPicture(face: FaceBox, view: View, width: number, height: number): FaceBox {
  const [ax, ay] = pointToPicture(view, width, height, face.x, face.y);
  const [bx, by] = pointToPicture(view, width, height, face.x + face.w, face.y + face.h);
  const l = face.landmarks;
  const order = view.mirror ? [1, 0, 2, 4, 3] : [0, 1, 2, 3, 4];
  const landmarks: number[] = [];
  for (const n of order) landmarks.push(...pointToPicture(view, width, height, l[2 * n]!, l[2 * n + 1]!));
  return {
    x: Math.min(ax, bx),
    y: Math.min(ay, by),
    w: Math.abs(bx - ax),
    h: Math.abs(by - ay),
    score: face.score,
    landmarks,
  };
}
