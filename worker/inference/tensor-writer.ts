import type { Box, RawImage } from '../detection/face-types.js';
import { pixelMap, pointToPicture, viewSize, type View } from '../detection/view-transform.js';

/** How a model wants its input values: planes in this channel order, each value `(pixel − mean) / std`. */
export interface TensorLayout {
  channelOrder: 'rgb' | 'bgr';
  mean: number;
  std: number;
}

/**
 * Sets a whole planar canvas to what a raw black pixel (0) becomes, before inputs are written into it:
 * InsightFace pads its letterbox with black.
 */
export function fillCanvas(out: Float32Array, layout: TensorLayout): void {
  out.fill((0 - layout.mean) * (1 / layout.std));
}

function checkRect(what: string, x: number, y: number, w: number, h: number, width: number, height: number) {
  const whole = [x, y, w, h].every(Number.isInteger);
  if (!whole || x < 0 || y < 0 || w < 0 || h < 0 || x + w > width || y + h > height)
    throw new RangeError(`${what} ${w}×${h} at (${x}, ${y}) is not inside ${width}×${height}`);
}

/**
 * Writes the part `src` (in the view's pixels, whole) of `img` seen through `view` into the planar NCHW
 * canvas `out` (3 planes of `canvasWidth`×`canvasHeight`) with its top-left corner at `dst`. Only the
 * pixels of that rectangle are written, so several inputs can share a canvas. The loop walks the picture's
 * rows (read in order) and lands each pixel through {@link pixelMap}: the turn and mirror cost nothing.
 */
export function writeView(
  img: RawImage,
  view: View,
  src: Box,
  out: Float32Array,
  canvasWidth: number,
  canvasHeight: number,
  dst: { x: number; y: number },
  layout: TensorLayout,
): void {
  const { data, width, height, channels } = img;
  const seen = viewSize(view.turn, width, height);
  checkRect('source', src.x, src.y, src.w, src.h, seen.width, seen.height);
  checkRect('destination', dst.x, dst.y, src.w, src.h, canvasWidth, canvasHeight);
  const plane = canvasWidth * canvasHeight;
  if (out.length !== 3 * plane) throw new RangeError(`canvas of ${out.length}, not ${3 * plane}`);
  if (src.w === 0 || src.h === 0) return;
  // A multiply, not a divide, per value: the divide made this loop about 1.5× slower. The floats are the
  // same whenever `std` is a power of two (1, InsightFace's 128), else within the quotient's last bit.
  const [mean, scale] = [layout.mean, 1 / layout.std];
  const [first, last] = layout.channelOrder === 'rgb' ? [0, 2] : [2, 0];
  // The picture rectangle behind `src`: its corners, mapped back, are whole picture edges.
  const [ax, ay] = pointToPicture(view, width, height, src.x, src.y);
  const [bx, by] = pointToPicture(view, width, height, src.x + src.w, src.y + src.h);
  const [x0, x1, y0, y1] = [Math.min(ax, bx), Math.max(ax, bx), Math.min(ay, by), Math.max(ay, by)];
  const shift = (dst.y - src.y) * canvasWidth + (dst.x - src.x);
  for (let y = y0; y < y1; y++) {
    const { col0, row0, dCol, dRow } = pixelMap(view, width, height, y);
    const step = dRow * canvasWidth + dCol;
    let s = (y * width + x0) * channels;
    let d = (row0 + x0 * dRow) * canvasWidth + col0 + x0 * dCol + shift;
    for (let x = x0; x < x1; x++, s += channels, d += step) {
      out[d] = (data[s + first]! - mean) * scale;
      out[plane + d] = (data[s + 1]! - mean) * scale;
      out[2 * plane + d] = (data[s + last]! - mean) * scale;
    }
  }
}
