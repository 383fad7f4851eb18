/** A detected face in some pixel space: top-left box, score, and YuNet's 5 landmarks as x,y pairs. */
export interface FaceBox {
  x: number;
  y: number;
  w: number;
  h: number;
  score: number;
  /** eye, eye, nose tip, mouth corner, mouth corner, each pair image-left first: [x0,y0,…,x4,y4]. */
  landmarks: number[];
}

export function area(b: FaceBox): number {
  return Math.max(0, b.w) * Math.max(0, b.h);
}

export function iou(a: FaceBox, b: FaceBox): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}
