import { DETECTOR_FAMILIES } from '../../shared/detectors/detector-families.js';
import type { RawImage } from '../detection/face-types.js';
import { pixelMap, UPRIGHT, viewSize, type View } from '../detection/view-transform.js';

const { padTo } = DETECTOR_FAMILIES.yunet.band;
const alignUp = (v: number, multiple: number) => Math.ceil(v / multiple) * multiple;

/**
 * Builds YuNet's input: planar BGR float32 in 0–255, no normalisation, padded with zeros at the bottom and
 * right to a canvas whose sides are multiples of 32 (the model's largest stride). The picture is read
 * through `view` while copying (a turn or a mirror costs nothing extra). `out`, from {@link TensorBuffers},
 * is filled instead of a new array; it must be zero outside this view's pixels.
 */
export function toYunetTensor(
  img: RawImage,
  view: View = UPRIGHT,
  out?: Float32Array,
): { tensor: Float32Array; width: number; height: number } {
  const { data, width, height, channels } = img;
  const seen = viewSize(view.turn, width, height);
  const cw = alignUp(seen.width, padTo);
  const ch = alignUp(seen.height, padTo);
  const plane = cw * ch;
  if (out && out.length !== 3 * plane)
    throw new RangeError(`tensor buffer of ${out.length}, not ${3 * plane}`);
  out ??= new Float32Array(3 * plane);
  for (let y = 0; y < height; y++) {
    const { col0, row0, dCol, dRow } = pixelMap(view, width, height, y);
    const step = dRow * cw + dCol;
    let src = y * width * channels;
    let dst = row0 * cw + col0;
    for (let x = 0; x < width; x++, src += channels, dst += step) {
      out[dst] = data[src + 2]!;
      out[plane + dst] = data[src + 1]!;
      out[2 * plane + dst] = data[src]!;
    }
  }
  return { tensor: out, width: cw, height: ch };
}

/**
 * Tensor arrays kept for reuse, one per image size. A new array per run costs more than filling it (fresh
 * pages are zeroed by the kernel on first touch, then collected; figures: BENCHMARKS.md, "Measured behind the code").
 * An array is only ever written where images of its size have pixels, so its padding stays zero. Arrays
 * are taken out while in use, so two runs never share one; the least recently used go beyond `maxBytes`.
 */
export class TensorBuffers {
  private readonly free = new Map<string, Float32Array>();
  private bytes = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  take(img: Pick<RawImage, 'width' | 'height'>): Float32Array {
    const key = `${img.width}x${img.height}`;
    const kept = this.free.get(key);
    if (!kept) return new Float32Array(3 * alignUp(img.width, padTo) * alignUp(img.height, padTo));
    this.free.delete(key);
    this.bytes -= kept.byteLength;
    return kept;
  }

  give(img: Pick<RawImage, 'width' | 'height'>, buffer: Float32Array): void {
    const key = `${img.width}x${img.height}`;
    const previous = this.free.get(key);
    if (previous) this.bytes -= previous.byteLength;
    this.free.delete(key);
    this.free.set(key, buffer);
    this.bytes += buffer.byteLength;
    for (const [oldest, array] of this.free) {
      if (this.bytes <= this.maxBytes) break;
      this.free.delete(oldest);
      this.bytes -= array.byteLength;
    }
  }
}
