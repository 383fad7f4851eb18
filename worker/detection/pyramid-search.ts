import type { Detector } from './detector.js';
import { confirmWithMirror } from './flip-refinement.js';
import { faceSize, type FaceBox } from './face-types.js';
import type { ImagePyramid } from './image-pyramid.js';
import { nms } from './nms.js';
import { mergeScales, passesFor, selectAndMap } from './scale-plan.js';
import type { QuarterTurn } from './view-transform.js';

export interface PyramidSearchOptions {
  nmsIou: number;
  /**
   * Faces smaller than this (input pixels, finest pass) must be confirmed by a mirrored pass, which also
   * refines their landmarks.
   * @defaultValue 64
   */
  confirmBelow?: number;
}

export interface SearchRequest {
  turn: QuarterTurn;
  /** Faces scoring below this are not answers. */
  threshold: number;
  /**
   * Candidates scoring at least this but below `threshold` come back as `hints`: faces the model half
   * sees, which may be whole faces at another turn. Defaults to `threshold` (no hints).
   */
  hintThreshold?: number;
  /** Only passes that can find faces at least this large (shorter side, picture pixels) run. */
  minFaceSize?: number;
  /** Only passes whose longer side is at most this run (the coarsest always runs): a cheap probe. */
  maxSide?: number;
}

export interface SearchResult {
  /** Merged faces in the picture's pixels. */
  faces: FaceBox[];
  /** Below-threshold candidates, merged among themselves, best first. */
  hints: FaceBox[];
  /** Whether every pass the request needs ran (no `maxSide` cut), so it need not be repeated in full. */
  complete: boolean;
}

/**
 * Multi-scale detection of one picture at one turn: each pass answers for the face sizes it sees well,
 * small faces are confirmed by a mirrored view, and the passes' answers are merged.
 */
export class PyramidSearch {
  constructor(
    private readonly detector: Detector,
    private readonly options: PyramidSearchOptions,
  ) {}

  async search(pyramid: ImagePyramid, request: SearchRequest): Promise<SearchResult> {
    const { turn, threshold } = request;
    const hintThreshold = Math.min(threshold, request.hintThreshold ?? threshold);
    const needed = passesFor(pyramid.passes, pyramid.width, request.minFaceSize ?? 0);
    const chosen = needed.filter(
      ({ pass, index }) =>
        index === pyramid.passes.length - 1 ||
        Math.max(pass.width, pass.height) <= (request.maxSide ?? Infinity),
    );
    const view = { turn, mirror: false };
    // The finest pass is most of the model's work: it starts while the coarser images are resized, and
    // they go as a second request, which another inference thread can take.
    const [first, ...rest] = chosen;
    const firstRun = this.detector.detect(
      [{ image: await pyramid.image(first!.index), view }],
      hintThreshold,
    );
    firstRun.catch(() => {}); // awaited below; a failure meanwhile must not count as unhandled
    const restImages = await Promise.all(rest.map(({ index }) => pyramid.image(index)));
    const [[firstFound], restFound] = await Promise.all([
      firstRun,
      rest.length > 0
        ? this.detector.detect(
            restImages.map((image) => ({ image, view })),
            hintThreshold,
          )
        : [],
    ]);

    const found = [firstFound!, ...restFound];
    const strong = found.map((faces) => faces.filter((f) => f.score >= threshold));
    if (first!.index === 0) strong[0] = await this.confirmSmall(pyramid, strong[0]!, turn, threshold);

    const mapped = (lists: FaceBox[][]) =>
      lists.flatMap((faces, i) => selectAndMap(faces, chosen[i]!.pass, pyramid.width, pyramid.height));
    const weak = found.map((faces) => faces.filter((f) => f.score < threshold));
    return {
      faces: mergeScales(mapped(strong), this.options.nmsIou),
      hints: nms(mapped(weak), this.options.nmsIou),
      complete: chosen.length === needed.length,
    };
  }

  /** Small faces of the finest pass must also be seen in its mirror image (see confirmWithMirror). */
  private async confirmSmall(pyramid: ImagePyramid, faces: FaceBox[], turn: QuarterTurn, threshold: number) {
    const confirmBelow = this.options.confirmBelow ?? 64;
    if (!faces.some((f) => faceSize(f) < confirmBelow)) return faces;
    const [mirrored] = await this.detector.detect(
      [{ image: pyramid.finest, view: { turn, mirror: true } }],
      threshold,
    );
    return confirmWithMirror(faces, mirrored!, { confirmBelow });
  }
}
