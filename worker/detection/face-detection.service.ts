import type { ImageDecoder } from '../media/image-decoder.repository.js';
import type { Detector } from './detector.js';
import type { FaceBox, RawImage } from './face-types.js';
import { ImagePyramid } from './image-pyramid.js';
import { OrientationSearch, type OrientationLock } from './orientation-search.js';
import { PyramidSearch } from './pyramid-search.js';
import { planScales } from './scale-plan.js';
import type { QuarterTurn } from './view-transform.js';

export interface FaceDetectionOptions {
  /** Longest side of the finest detection pass (DETECT_MAX_SIDE). */
  maxSide: number;
  /** Default score threshold when a request sets no `min_confidence`. */
  scoreThreshold: number;
  nmsIou: number;
  /**
   * Faces smaller than this (input pixels, finest pass) must be confirmed by a mirrored pass.
   * @defaultValue 64
   */
  confirmBelow?: number;
}

export interface PictureRequest {
  minConfidence?: number;
  /** Search every quarter turn of the picture, not only upright. */
  autoRotate: boolean;
  /** Faces whose shorter side is below this many picture pixels are not wanted. */
  minFaceSize?: number;
}

export interface DetectedPicture {
  /** The picture the faces are reported in. */
  width: number;
  height: number;
  /** Faces in the reported picture's pixels, unordered. */
  faces: FaceBox[];
  /** The clockwise quarter turn under which they were found upright. */
  turn: QuarterTurn;
  /** The pixels of the finest pass (the whole picture when it was no larger than `maxSide`). */
  pixels: RawImage;
}

/** Face detection of one picture: multi-scale, at any quarter turn when asked. */
export class FaceDetectionService {
  private readonly pyramids: PyramidSearch;
  private readonly orientations: OrientationSearch;

  constructor(
    detector: Detector,
    private readonly decoder: Pick<ImageDecoder, 'probe' | 'decode' | 'resizeRaw'>,
    private readonly options: FaceDetectionOptions,
  ) {
    this.pyramids = new PyramidSearch(detector, options);
    this.orientations = new OrientationSearch(detector, this.pyramids, options);
  }

  /**
   * Detects faces in an encoded image (JPEG, PNG, …), decoded once at the finest pass's size, so JPEG
   * shrink-on-load applies.
   */
  async detectEncoded(bytes: Buffer, request: PictureRequest): Promise<DetectedPicture> {
    const { width, height } = await this.decoder.probe(bytes);
    const passes = planScales(width, height, { maxSide: this.options.maxSide });
    const finest = await this.decoder.decode(bytes, passes[0]!.width, passes[0]!.height);
    const pyramid = new ImagePyramid(width, height, passes, finest, this.resize);
    return this.detectPyramid(pyramid, request);
  }

  /**
   * Detects faces in decoded pixels (a video frame), reported in the pixels of `width`×`height`. Frames
   * of one video share `lock`, so the turn is searched for until it is clear, then kept.
   */
  async detectRaw(
    image: RawImage,
    width: number,
    height: number,
    request: PictureRequest,
    lock?: OrientationLock,
  ): Promise<DetectedPicture> {
    const pyramid = await ImagePyramid.of(image, width, height, this.options.maxSide, this.resize);
    return this.detectPyramid(pyramid, request, lock);
  }

  private async detectPyramid(
    pyramid: ImagePyramid,
    request: PictureRequest,
    lock?: OrientationLock,
  ): Promise<DetectedPicture> {
    const search = {
      threshold: request.minConfidence ?? this.options.scoreThreshold,
      minFaceSize: request.minFaceSize,
    };
    const { faces, turn } = request.autoRotate
      ? await this.orientations.detect(pyramid, search, lock)
      : { ...(await this.pyramids.search(pyramid, { ...search, turn: 0 })), turn: 0 as const };
    return { width: pyramid.width, height: pyramid.height, faces, turn, pixels: pyramid.finest };
  }

  private readonly resize = (image: RawImage, width: number, height: number) =>
    this.decoder.resizeRaw(image, width, height);
}
