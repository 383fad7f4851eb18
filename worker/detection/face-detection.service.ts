import {
  DETECTOR_FAMILIES,
  type FaceBand,
  type ScoreScale,
} from '../../shared/detectors/detector-families.js';
import type { ImageDecoder } from '../media/image-decoder.repository.js';
import type { Detector } from './detector.js';
import type { FaceBox, RawImage } from './face-types.js';
import { ImagePyramid } from './image-pyramid.js';
import { OrientationSearch } from './orientation-search.js';
import { PyramidSearch } from './pyramid-search.js';
import { planScales, type ScalePlanOptions } from './scale-plan.js';
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
  /**
   * The face sizes one pass of the model sees well (its family's, in shared/detectors).
   * @defaultValue YuNet's
   */
  band?: FaceBand;
  /**
   * Where the model's scores lie (its family's), for the orientation search.
   * @defaultValue YuNet's
   */
  scores?: ScoreScale;
  /**
   * Most aligned views a large face's landmarks are refined over (its family's).
   * @defaultValue YuNet's
   */
  landmarkViews?: number;
}

export interface PictureRequest {
  minConfidence?: number;
  /** Search every quarter turn of the picture, not only upright. */
  autoRotate: boolean;
  /** Faces whose shorter side is below this many picture pixels are not wanted. */
  minFaceSize?: number;
  /** With `autoRotate`: search this turn alone (decided on an earlier frame of the same video). */
  turn?: QuarterTurn;
}

export interface DetectedPicture {
  /** The picture the faces are reported in. */
  width: number;
  height: number;
  /** Faces in the reported picture's pixels, unordered. */
  faces: FaceBox[];
  /** The clockwise quarter turn under which they were found upright. */
  turn: QuarterTurn;
  /** The faces made `turn` clear, so later frames of a video may search it alone. */
  decided: boolean;
  /** The picture at every pass's scale; its finest level is the whole picture when no larger than `maxSide`. */
  pyramid: ImagePyramid;
}

/** Face detection of one picture: multi-scale, at any quarter turn when asked. */
export class FaceDetectionService {
  private readonly pyramids: PyramidSearch;
  private readonly orientations: OrientationSearch;
  private readonly plan: ScalePlanOptions;

  constructor(
    detector: Detector,
    private readonly decoder: Pick<ImageDecoder, 'probe' | 'decode' | 'resizeRaw'>,
    private readonly options: FaceDetectionOptions,
  ) {
    const band = options.band ?? DETECTOR_FAMILIES.yunet.band;
    this.plan = { ...band, maxSide: options.maxSide };
    this.pyramids = new PyramidSearch(detector, { ...options, padTo: band.padTo });
    this.orientations = new OrientationSearch(detector, this.pyramids, options);
  }

  /**
   * Detects faces in an encoded image (JPEG, PNG, …), decoded once at the finest pass's size, so JPEG
   * shrink-on-load applies.
   */
  async detectEncoded(bytes: Buffer, request: PictureRequest): Promise<DetectedPicture> {
    const { width, height } = await this.decoder.probe(bytes);
    const passes = planScales(width, height, this.plan);
    const finest = await this.decoder.decode(bytes, passes[0]!.width, passes[0]!.height);
    const pyramid = new ImagePyramid(width, height, passes, finest, this.resize);
    return this.detectPyramid(pyramid, request);
  }

  /** Detects faces in decoded pixels (a video frame), reported in the pixels of `width`×`height`. */
  async detectRaw(image: RawImage, width: number, height: number, request: PictureRequest) {
    const pyramid = await ImagePyramid.of(image, width, height, this.plan, this.resize);
    return this.detectPyramid(pyramid, request);
  }

  private async detectPyramid(pyramid: ImagePyramid, request: PictureRequest): Promise<DetectedPicture> {
    const search = {
      threshold: request.minConfidence ?? this.options.scoreThreshold,
      minFaceSize: request.minFaceSize,
    };
    const { faces, turn, decided } = request.autoRotate
      ? await this.orientations.detect(pyramid, { ...search, turn: request.turn })
      : {
          ...(await this.pyramids.search(pyramid, { ...search, turn: 0 })),
          turn: 0 as const,
          decided: false,
        };
    return { width: pyramid.width, height: pyramid.height, faces, turn, decided, pyramid };
  }

  private readonly resize = (image: RawImage, width: number, height: number) =>
    this.decoder.resizeRaw(image, width, height);
}
