import type { Detector } from './detector.js';
import { confirmWithMirror } from './flip-refinement.js';
import { faceSize, type Box, type FaceBox, type RawImage } from './face-types.js';
import type { ImagePyramid } from './image-pyramid.js';
import { cropImage, mirrorWindows } from './mirror-windows.js';
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
  /**
   * The detector pads each input to multiples of this, which a mirror window's cost counts.
   * @defaultValue 32
   */
  padTo?: number;
}

export interface SearchRequest {
  turn: QuarterTurn;
  /** Faces scoring below this are not answers. */
  threshold: number;
  /**
   * Detections scoring at least this, whatever `threshold`, come back as `evidence` (none when unset):
   * what the model sees at this turn, for weighing turns against each other.
   */
  evidenceThreshold?: number;
  /** Only passes that can find faces at least this large (shorter side, picture pixels) run. */
  minFaceSize?: number;
  /** Only passes whose longer side is at most this run (the coarsest always runs): a cheap probe. */
  maxSide?: number;
}

export interface SearchResult {
  /** Merged faces in the picture's pixels. */
  faces: FaceBox[];
  /**
   * Every detection scoring at least the request's `evidenceThreshold`, merged, small ones unconfirmed by
   * the mirror: the same for any `threshold`, so that no answer filter changes the evidence.
   */
  evidence: FaceBox[];
  /** Whether every pass the request needs ran (no `maxSide` cut), so it need not be repeated in full. */
  complete: boolean;
}

/**
 * Multi-scale detection of one picture at one turn: each pass answers for the face sizes it sees well,
 * small faces are confirmed by a mirrored view, and the passes' answers are merged.
 */
export class PyramidSearch {
  /** Each picture's model runs by turn, pass and threshold, kept as long as the picture is. */
  private readonly runs = new WeakMap<ImagePyramid, Map<string, Promise<FaceBox[]>>>();

  constructor(
    private readonly detector: Detector,
    private readonly options: PyramidSearchOptions,
  ) {}

  async search(pyramid: ImagePyramid, request: SearchRequest): Promise<SearchResult> {
    const { turn, threshold, evidenceThreshold } = request;
    const needed = passesFor(pyramid.passes, pyramid.width, request.minFaceSize ?? 0);
    const chosen = needed.filter(
      ({ pass, index }) =>
        index === pyramid.passes.length - 1 ||
        Math.max(pass.width, pass.height) <= (request.maxSide ?? Infinity),
    );
    const floor = Math.min(threshold, evidenceThreshold ?? threshold);
    const found = await this.run(pyramid, chosen, turn, floor);
    const strong = found.map((faces) => faces.filter((f) => f.score >= threshold));
    // A probe cut the finer passes: its finest answers for the smaller faces they would have.
    const complete = chosen.length === needed.length;
    const bands = chosen.map(({ pass }, i) => (i === 0 && !complete ? { ...pass, minFace: 0 } : pass));
    const mapped = (lists: FaceBox[][]) =>
      lists.flatMap((faces, i) => selectAndMap(faces, bands[i]!, pyramid.width, pyramid.height));
    const faces =
      chosen[0]!.index === 0
        ? await this.mergeConfirmed(pyramid, strong, mapped, { turn, threshold })
        : mergeScales(mapped(strong), this.options.nmsIou);
    const evidence =
      evidenceThreshold === undefined
        ? []
        : mergeScales(
            mapped(found.map((list) => list.filter((f) => f.score >= evidenceThreshold))),
            this.options.nmsIou,
          );
    return { faces, evidence, complete };
  }

  /**
   * The model's detections in each chosen pass at `turn`, at least `threshold`. A pass already run on this
   * picture at that turn and threshold is not run again: a probe's coarse passes serve the full search
   * at its turn. The finest pass not yet run is most of the model's work: it starts while the coarser
   * images are resized, and they go as a second request, which another inference thread can take.
   */
  private run(
    pyramid: ImagePyramid,
    chosen: readonly { index: number }[],
    turn: QuarterTurn,
    threshold: number,
  ): Promise<FaceBox[][]> {
    let runs = this.runs.get(pyramid);
    if (!runs) this.runs.set(pyramid, (runs = new Map<string, Promise<FaceBox[]>>()));
    const key = (index: number) => `${turn}:${index}:${threshold}`;
    const view = { turn, mirror: false };
    const [first, ...rest] = chosen.filter(({ index }) => !runs.has(key(index)));
    if (first) {
      const firstRun = pyramid
        .image(first.index)
        .then((image) => this.detector.detect([{ image, view }], threshold));
      runs.set(
        key(first.index),
        firstRun.then(([faces]) => faces!),
      );
    }
    if (rest.length > 0) {
      const restRun = Promise.all(rest.map(({ index }) => pyramid.image(index))).then((images) =>
        this.detector.detect(
          images.map((image) => ({ image, view })),
          threshold,
        ),
      );
      rest.forEach(({ index }, i) =>
        runs.set(
          key(index),
          restRun.then((found) => found[i]!),
        ),
      );
    }
    const all = chosen.map(({ index }) => runs.get(key(index))!);
    // Awaited together below; a failure of one meanwhile must not count as unhandled.
    for (const p of all) p.catch(() => {});
    return Promise.all(all);
  }

  /**
   * Merges the passes' faces, where small faces of the finest pass count only when its mirror image also
   * shows them (see confirmWithMirror); larger faces keep the model's landmarks (the landmark refiner sees
   * every face again when `auto_rotate` is on). A mirrored finest pass costs as much as the finest, so the
   * check runs only when a small face could change the merge (in a close-up the finest pass finds small
   * "faces" in the texture of the large one, which the merge drops anyway), and then on windows around
   * the small faces unless they would cost more than the whole picture (a 12-MP portrait's texture "faces"
   * on a shirt cost one small window; figures: BENCHMARKS.md, "Measured behind the code").
   */
  private async mergeConfirmed(
    pyramid: ImagePyramid,
    strong: FaceBox[][],
    mapped: (lists: FaceBox[][]) => FaceBox[],
    { turn, threshold }: { turn: QuarterTurn; threshold: number },
  ): Promise<FaceBox[]> {
    const confirmBelow = this.options.confirmBelow ?? 64;
    const { nmsIou } = this.options;
    const [finest, ...coarser] = strong;
    const small = finest!.filter((f) => faceSize(f) < confirmBelow);
    const large = finest!.filter((f) => faceSize(f) >= confirmBelow);
    if (small.length === 0) return mergeScales(mapped(strong), nmsIou);
    const others = mapped([large, ...coarser]);
    if (this.cannotChange(others, mapped([small]))) return mergeScales(others, nmsIou);
    const mirrored = await this.mirroredNear(pyramid.finest, small, turn, threshold);
    const confirmed = confirmWithMirror(small, mirrored, { confirmBelow });
    return mergeScales(mapped([[...confirmed, ...large], ...coarser]), nmsIou);
  }

  /**
   * Whether no candidate can change the merge of `others`: each one, added alone, is dropped and
   * suppresses nothing. Many candidates or faces are a crowd, left to the mirror, which bounds this work.
   */
  private cannotChange(others: FaceBox[], candidates: FaceBox[]): boolean {
    if (candidates.length > MAX_SETTLE_CANDIDATES || others.length > MAX_SETTLE_FACES) return false;
    const { nmsIou } = this.options;
    const settled = mergeScales(others, nmsIou);
    return candidates.every((c) => sameFaces(mergeScales([...others, c], nmsIou), settled));
  }

  /** The mirrored view's faces around `faces`: in windows, or in the whole picture where that is cheaper. */
  private async mirroredNear(image: RawImage, faces: FaceBox[], turn: QuarterTurn, threshold: number) {
    const view = { turn, mirror: true };
    // The model answers each face several times over; one of each is enough to place a window.
    const windows = mirrorWindows(nms(faces, this.options.nmsIou), image.width, image.height, {
      padTo: this.options.padTo,
    });
    if (!windows) return (await this.detector.detect([{ image, view }], threshold))[0]!;
    const found = await this.detector.detect(
      windows.map((w) => ({ image: cropImage(image, w), view })),
      threshold,
    );
    return found.flatMap((list, i) => list.map((f) => shifted(f, windows[i]!)));
  }
}

const MAX_SETTLE_CANDIDATES = 16;
const MAX_SETTLE_FACES = 256;

function sameFaces(a: readonly FaceBox[], b: readonly FaceBox[]): boolean {
  return a.length === b.length && a.every((f) => b.includes(f));
}

/** A face found in a window, in the pixels of the picture the window was cut from. */
function shifted(face: FaceBox, window: Box): FaceBox {
  return {
    ...face,
    x: face.x + window.x,
    y: face.y + window.y,
    landmarks: face.landmarks.map((v, i) => v + (i % 2 === 0 ? window.x : window.y)),
  };
}
