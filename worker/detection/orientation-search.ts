import type { Detector } from './detector.js';
import type { FaceBox } from './face-types.js';
import type { ImagePyramid } from './image-pyramid.js';
import type { PyramidSearch, SearchResult } from './pyramid-search.js';
import { mergeScales } from './scale-plan.js';
import { chooseTurn, findCentredFace, turnCheckSquare, type TurnVote } from './turn-choice.js';
import { QUARTER_TURNS, type QuarterTurn } from './view-transform.js';
import { resample } from './resample.js';
import { LandmarkRefiner } from './landmark-refiner.js';

export interface OrientationSearchOptions {
  nmsIou: number;
  /**
   * Candidates whose turn is checked, best first.
   * @defaultValue 3
   */
  candidates?: number;
  /**
   * Side of the square a candidate is checked in, pixels; the face fills about half of it.
   * @defaultValue 96
   */
  checkSide?: number;
  /**
   * Least score a check must give a turn for that turn to count.
   * @defaultValue 0.7
   */
  minEvidence?: number;
  /**
   * Candidates this weak still get checked: a face seen sideways often scores 0.3–0.6 upright.
   * @defaultValue 0.3
   */
  hintThreshold?: number;
  /**
   * Longer side of the probes that look for turned faces when the upright search finds nothing: the
   * passes up to this size run at the three other turns, not the finest ones.
   * @defaultValue 640
   */
  probeSide?: number;
}

/**
 * The turn chosen for one video, shared by its frames: once a frame has shown faces clearly at a turn,
 * later frames search that turn alone, at the cost of an upright search.
 */
export interface OrientationLock {
  turn?: QuarterTurn;
}

export interface OrientedFaces {
  faces: FaceBox[];
  /** The clockwise turn under which the faces were found upright. */
  turn: QuarterTurn;
}

export interface OrientedRequest {
  threshold: number;
  minFaceSize?: number;
}

/**
 * Finds faces whatever the picture's quarter turn, paying for the search only when the picture needs it:
 * - the upright search runs as without rotation;
 * - its best faces, or failing them its weakest candidates, are each checked in a small square at the four
 *   turns (four model runs of 96², a few percent of the upright search), and vote for a turn;
 * - nothing upright at all: cheap probes at the three other turns supply the candidates;
 * - the full search then runs at the winning turn only;
 * - each face's landmarks are then refined in an aligned view (see LandmarkRefiner).
 */
export class OrientationSearch {
  private readonly refiner: LandmarkRefiner;

  constructor(
    private readonly detector: Detector,
    private readonly pyramids: PyramidSearch,
    private readonly options: OrientationSearchOptions,
  ) {
    this.refiner = new LandmarkRefiner(detector);
  }

  async detect(pyramid: ImagePyramid, request: OrientedRequest, lock: OrientationLock = {}) {
    const { faces, turn } = await this.search(pyramid, request, lock);
    return { faces: await this.refiner.refine(pyramid, faces), turn };
  }

  private async search(
    pyramid: ImagePyramid,
    request: OrientedRequest,
    lock: OrientationLock,
  ): Promise<OrientedFaces> {
    if (lock.turn !== undefined) {
      const { faces } = await this.pyramids.search(pyramid, { ...request, turn: lock.turn });
      return { faces, turn: lock.turn };
    }
    const hintThreshold = this.options.hintThreshold ?? 0.3;
    const upright = await this.pyramids.search(pyramid, { ...request, turn: 0, hintThreshold });
    const checked = await this.check(pyramid, this.candidates([{ turn: 0, result: upright }]));
    let turn = chooseTurn(checked, this.minEvidence);
    let probes: { turn: QuarterTurn; result: SearchResult }[] = [];
    if (turn === undefined && upright.faces.length === 0) {
      probes = await this.probe(pyramid, request, hintThreshold);
      turn = chooseTurn(await this.check(pyramid, this.candidates(probes)), this.minEvidence);
    }
    if (turn === undefined) return { faces: upright.faces, turn: 0 as QuarterTurn };
    lock.turn = turn;
    if (turn === 0) return { faces: upright.faces, turn };

    const probed = probes.find((p) => p.turn === turn && p.result.complete)?.result;
    const { faces } = probed ?? (await this.pyramids.search(pyramid, { ...request, turn }));
    // Faces whose own check said upright stay: a picture may hold people at more than one turn.
    const uprightFaces = checked.filter((v) => v.turn === 0 && v.face.score >= request.threshold);
    const kept = faces.filter((f) => f.score >= request.threshold);
    return { faces: mergeScales([...kept, ...uprightFaces.map((v) => v.face)], this.options.nmsIou), turn };
  }

  private get minEvidence() {
    return this.options.minEvidence ?? 0.7;
  }

  private probe(pyramid: ImagePyramid, request: OrientedRequest, hintThreshold: number) {
    return Promise.all(
      QUARTER_TURNS.filter((t) => t !== 0).map(async (turn) => ({
        turn,
        result: await this.pyramids.search(pyramid, {
          ...request,
          turn,
          hintThreshold,
          maxSide: this.options.probeSide ?? 640,
        }),
      })),
    );
  }

  /**
   * The strongest candidates of some searches, best first: their faces, or their hints when they found
   * none (an upright face needs no weak company to vote, and each check costs four model runs).
   */
  private candidates(searches: { turn: QuarterTurn; result: SearchResult }[]): FaceBox[] {
    const byScore = (a: FaceBox, b: FaceBox) => b.score - a.score;
    const faces = searches.flatMap((s) => s.result.faces);
    const pool = faces.length > 0 ? faces : searches.flatMap((s) => s.result.hints);
    return pool.sort(byScore).slice(0, this.options.candidates ?? 3);
  }

  /** Each candidate, cut out of the finest picture and seen at the four turns, votes for one. */
  private check(pyramid: ImagePyramid, candidates: FaceBox[]): Promise<(TurnVote & { face: FaceBox })[]> {
    const side = this.options.checkSide ?? 96;
    const { finest } = pyramid;
    const scale = finest.width / pyramid.width;
    return Promise.all(
      candidates.map(async (face) => {
        const crop = resample(finest, turnCheckSquare(face, scale), side, side);
        const found = await this.detector.detect(
          QUARTER_TURNS.map((turn) => ({ image: crop, view: { turn, mirror: false } })),
          this.options.hintThreshold ?? 0.3,
        );
        const scores = found.map((faces) => findCentredFace(faces, side)?.score ?? 0);
        const best = scores.indexOf(Math.max(...scores));
        return { turn: QUARTER_TURNS[best]!, score: scores[best]!, face };
      }),
    );
  }
}
