import sharp from 'sharp';
import type { FaceBox } from '../../worker/detection/face-types.js';
import { nms } from '../../worker/detection/nms.js';
import { DEFAULT_SESSION } from '../../worker/inference/inference-protocol.js';
import { OnnxSession } from '../../worker/inference/onnx-session.js';
import { decodeScrfd } from '../../worker/scrfd/scrfd-decoder.js';
import type { Candidate } from './candidate.js';
import type { Detection } from './scoring.js';

/** InsightFace's defaults in scrfd.py: a 640×640 input, NMS at 0.4, faces kept from 0.5. */
const SIDE = 640;
const NMS_IOU = 0.4;
const INSIGHTFACE_THRESHOLD = 0.5;
/** Scores kept for the precision-recall curve ("all scores"). */
const BASELINE_AP_FLOOR = 0.02;
/** The crude tiling: 640 tiles at these scales of the picture, overlapping by this much. */
const TILE_SCALES = [1, 2] as const;
const TILE_OVERLAP = 160;

interface Rgb {
  data: Buffer;
  width: number;
  height: number;
}

/** One 640² run's window: the part of a picture scaled by `scale` that lands at the canvas's top left. */
interface Window {
  scale: number;
  x: number;
  y: number;
}

/** Tile origins along one side of `length` px: every SIDE − overlap, the last one flush with the end. */
function tileStarts(length: number, side = SIDE, overlap = TILE_OVERLAP): number[] {
  if (length <= side) return [0];
  const starts: number[] = [];
  for (let x = 0; x + side < length; x += side - overlap) starts.push(x);
  starts.push(length - side);
  return starts;
}

async function decodeRgb(bytes: Buffer, width?: number, height?: number): Promise<Rgb> {
  let image = sharp(bytes).removeAlpha();
  // cv2.resize's bilinear, as InsightFace resizes.
  if (width && height) image = image.resize(width, height, { fit: 'fill', kernel: 'linear' });
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** The 640² RGB planar tensor of `image` from (x, y), (v − 127.5) / 128, black beyond the picture. */
function tensorOf(image: Rgb, x: number, y: number): Float32Array {
  const plane = SIDE * SIDE;
  const out = new Float32Array(3 * plane).fill(-127.5 / 128);
  const w = Math.min(SIDE, image.width - x);
  const h = Math.min(SIDE, image.height - y);
  for (let row = 0; row < h; row++) {
    let src = ((y + row) * image.width + x) * 3;
    for (let col = 0; col < w; col++, src += 3) {
      const dst = row * SIDE + col;
      out[dst] = (image.data[src]! - 127.5) / 128;
      out[plane + dst] = (image.data[src + 1]! - 127.5) / 128;
      out[2 * plane + dst] = (image.data[src + 2]! - 127.5) / 128;
    }
  }
  return out;
}

const toPicture = (f: FaceBox, w: Window): FaceBox => ({
  ...f,
  x: (f.x + w.x) / w.scale,
  y: (f.y + w.y) / w.scale,
  w: f.w / w.scale,
  h: f.h / w.scale,
});

/**
 * SCRFD run as InsightFace runs it (one letterboxed 640 pass: scale min(640/w, 640/h), top left, black
 * padding), or that pass plus the crude tiling (640 tiles of the picture at native and 2× scale, overlap
 * 160), one NMS at 0.4 over all; onnxruntime directly, one intra-op thread, InsightFace's decoding.
 */
export class ScrfdBaseline implements Candidate {
  readonly recallThreshold = INSIGHTFACE_THRESHOLD;
  readonly autoRotateNote = 'no turns (InsightFace has none)';
  readonly rotates = false;
  private lastRun = 0;

  private constructor(
    readonly label: string,
    private readonly session: OnnxSession,
    private readonly tiled: boolean,
  ) {}

  static async load(label: string, modelPath: string, tiled: boolean): Promise<ScrfdBaseline> {
    return new ScrfdBaseline(label, await OnnxSession.load(modelPath, DEFAULT_SESSION), tiled);
  }

  detectAll(bytes: Buffer): Promise<Detection[]> {
    return this.detect(bytes, BASELINE_AP_FLOOR);
  }

  detectDefault(bytes: Buffer): Promise<Detection[]> {
    return this.detect(bytes, INSIGHTFACE_THRESHOLD);
  }

  lastRunMs(): number {
    return this.lastRun;
  }

  close(): Promise<void> {
    return this.session.release();
  }

  private async detect(bytes: Buffer, threshold: number): Promise<Detection[]> {
    this.lastRun = 0;
    const { width, height } = await sharp(bytes).metadata();
    if (!width || !height) throw new Error('baseline: picture without a size');
    const r = Math.min(SIDE / width, SIDE / height);
    const whole = await decodeRgb(
      bytes,
      Math.max(1, Math.floor(width * r)),
      Math.max(1, Math.floor(height * r)),
    );
    const found = await this.pass(whole, { scale: whole.width / width, x: 0, y: 0 }, threshold);
    if (this.tiled) {
      for (const scale of TILE_SCALES)
        found.push(...(await this.tiles(bytes, width, height, scale, threshold)));
    }
    return nms(found, NMS_IOU).map((f) => ({ box: [f.x, f.y, f.w, f.h], score: f.score }));
  }

  private async tiles(bytes: Buffer, width: number, height: number, scale: number, threshold: number) {
    const image = await decodeRgb(bytes, Math.round(width * scale), Math.round(height * scale));
    const found: FaceBox[] = [];
    for (const y of tileStarts(image.height))
      for (const x of tileStarts(image.width))
        found.push(...(await this.pass(image, { scale, x, y }, threshold)));
    return found;
  }

  private async pass(image: Rgb, window: Window, threshold: number): Promise<FaceBox[]> {
    const tensor = tensorOf(image, window.x, window.y);
    const t0 = performance.now();
    const outputs = await this.session.run(tensor, SIDE, SIDE);
    this.lastRun += performance.now() - t0;
    return decodeScrfd(outputs, SIDE, SIDE, threshold).map((f) => toPicture(f, window));
  }
}
