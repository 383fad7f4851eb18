import type { FaceBox } from './face-box.js';
import { confirmWithMirror } from './flip-refinement.js';
import type { RawImage } from './input-tensor.js';
import { mergeScales, planScales, selectAndMap, type ScalePass } from './scale-plan.js';
import type { InferencePool } from '../inference/inference-pool.js';
import type { ImageDecoder } from '../media/image-decoder.repository.js';

export interface FaceDetectionOptions {
  /** Longest side of the finest detection pass (DETECT_MAX_SIDE). */
  maxSide: number;
  /** Default score threshold when a request sets no `min_confidence`. */
  scoreThreshold: number;
  nmsIou: number;
  /**
   * Faces smaller than this (input pixels, finest pass) must be confirmed by a mirrored pass, which also
   * refines their landmarks.
   * @defaultValue 64
   */
  confirmBelow?: number;
}

export interface DetectedImage {
  width: number;
  height: number;
  /** Faces in the displayed image's pixels, unordered. */
  faces: FaceBox[];
  /** The decoded pixels of the finest pass (the full image when it was no larger than `maxSide`). */
  pixels: RawImage;
}

/**
 * Multi-scale YuNet detection of one picture. The image is decoded once at the finest pass's size; the
 * coarser passes are resized from that. The finest pass and the coarser ones run as two requests, so that
 * one picture alone can use two inference threads.
 */
export class FaceDetectionService {
  constructor(
    private readonly pool: InferencePool,
    private readonly decoder: ImageDecoder,
    private readonly options: FaceDetectionOptions,
  ) {}

  /** Detects faces in an encoded image (JPEG, PNG, …). */
  async detectEncoded(bytes: Buffer, minConfidence?: number): Promise<DetectedImage> {
    const { width, height } = await this.decoder.probe(bytes);
    const passes = planScales(width, height, { maxSide: this.options.maxSide });
    const finest = await this.decoder.decode(bytes, passes[0]!.width, passes[0]!.height);
    const faces = await this.detectPasses(finest, passes, width, height, minConfidence);
    return { width, height, faces, pixels: finest };
  }

  /** Detects faces in decoded pixels (a video frame), reported in the pixels of `fullWidth`×`fullHeight`. */
  async detectRaw(
    image: RawImage,
    fullWidth: number,
    fullHeight: number,
    minConfidence?: number,
  ): Promise<FaceBox[]> {
    const passes = planScales(image.width, image.height, { maxSide: this.options.maxSide });
    const finest =
      passes[0]!.width === image.width && passes[0]!.height === image.height
        ? image
        : await this.decoder.resizeRaw(image, passes[0]!.width, passes[0]!.height);
    return this.detectPasses(finest, passes, fullWidth, fullHeight, minConfidence);
  }

  private async detectPasses(
    finest: RawImage,
    passes: ScalePass[],
    width: number,
    height: number,
    minConfidence: number | undefined,
  ): Promise<FaceBox[]> {
    const threshold = minConfidence ?? this.options.scoreThreshold;
    // The finest pass is most of the model's work: it starts while the coarser images are resized, and
    // they go as a second request, which another inference thread can take.
    const finestRun = this.pool.run([{ image: finest, mirror: false }], threshold);
    finestRun.catch(() => {}); // awaited below; a failure meanwhile must not count as unhandled
    const coarser = [];
    for (const pass of passes.slice(1))
      coarser.push({ image: await this.decoder.resizeRaw(finest, pass.width, pass.height), mirror: false });
    const [[finestFound], coarserFound] = await Promise.all([
      finestRun,
      coarser.length > 0 ? this.pool.run(coarser, threshold) : [],
    ]);

    let finestFaces = finestFound!;
    const confirmBelow = this.options.confirmBelow ?? 64;
    if (finestFaces.some((f) => Math.sqrt(f.w * f.h) < confirmBelow)) {
      const [mirrored] = await this.pool.run([{ image: finest, mirror: true }], threshold);
      finestFaces = confirmWithMirror(finestFaces, mirrored!, { confirmBelow });
    }

    const all = passes.flatMap((pass, i) =>
      selectAndMap(i === 0 ? finestFaces : coarserFound[i - 1]!, pass, width, height),
    );
    return mergeScales(all, this.options.nmsIou);
  }
}
