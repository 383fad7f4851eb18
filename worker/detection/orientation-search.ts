import type { Detector } from './detector.js';
import { iou, type FaceBox } from './face-types.js';
import type { ImagePyramid } from './image-pyramid.js';
import type { PyramidSearch, SearchResult } from './pyramid-search.js';
import { mergeScales } from './scale-plan.js';
import { chooseTurn, faceSquare, findCentredFace, type TurnVote } from './turn-choice.js';
import { QUARTER_TURNS, type QuarterTurn } from './view-transform.js';
import { sampleRegion } from './resample.js';
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

export interface OrientedFaces {
  faces: FaceBox[];
  /** The clockwise turn under which the faces were found upright. */
  turn: QuarterTurn;
  /**
   * The faces made the turn clear: a video's later frames may search that turn alone. False when the
   * turn was given, or nothing was found.
   */
  decided: boolean;
}

export interface OrientedRequest {
  threshold: number;
  minFaceSize?: number;
  /** Search this turn alone (a video's turn, decided on an earlier frame). */
  turn?: QuarterTurn;
}

interface TurnedSearch {
  turn: QuarterTurn;
  result: SearchResult;
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
    this.refiner = new LandmarkRefiner(detector, { threshold: this.hintThreshold });
  }

  async detect(pyramid: ImagePyramid, request: OrientedRequest): Promise<OrientedFaces> {
    const found = await this.search(pyramid, request);
    return { ...found, faces: await this.refiner.refine(pyramid, found.faces) };
  }

  private async search(pyramid: ImagePyramid, request: OrientedRequest): Promise<OrientedFaces> {
    if (request.turn !== undefined) {
      const { faces } = await this.pyramids.search(pyramid, { ...request, turn: request.turn });
      return { faces, turn: request.turn, decided: false };
    }
    const hintThreshold = this.hintThreshold;
    const upright = await this.pyramids.search(pyramid, { ...request, turn: 0, hintThreshold });
    const votes = await this.check(pyramid, this.candidates([{ turn: 0, result: upright }]));
    let turn = chooseTurn(votes, this.minEvidence);
    let probes: TurnedSearch[] = [];
    if (turn === undefined && upright.faces.length === 0) {
      probes = await this.probe(pyramid, request);
      turn = chooseTurn(await this.check(pyramid, this.candidates(probes)), this.minEvidence);
    }
    if (turn === undefined || turn === 0) {
      return { faces: upright.faces, turn: 0, decided: turn === 0 && upright.faces.length > 0 };
    }
    const probed = probes.find((p) => p.turn === turn && p.result.complete)?.result;
    const turned = (probed ?? (await this.pyramids.search(pyramid, { ...request, turn }))).faces.filter(
      (f) => f.score >= request.threshold,
    );
    // A picture may hold people at more than one turn: an upright face stays unless its own check saw
    // it better at another turn, or a face of the winning turn lies on it.
    const elsewhere = new Set(
      votes.filter((v) => v.turn !== 0 && v.score >= this.minEvidence).map((v) => v.face),
    );
    const uprightKept = upright.faces.filter(
      (f) => !elsewhere.has(f) && !turned.some((t) => iou(t, f) > MIN_OVERLAP),
    );
    return {
      faces: mergeScales([...turned, ...uprightKept], this.options.nmsIou),
      turn,
      decided: turned.length > 0,
    };
  }

  private get minEvidence() {
    return this.options.minEvidence ?? 0.7;
  }

  private get hintThreshold() {
    return this.options.hintThreshold ?? 0.3;
  }

  private probe(pyramid: ImagePyramid, request: OrientedRequest): Promise<TurnedSearch[]> {
    return Promise.all(
      QUARTER_TURNS.filter((t) => t !== 0).map(async (turn) => ({
        turn,
        result: await this.pyramids.search(pyramid, {
          ...request,
          turn,
          hintThreshold: this.hintThreshold,
          maxSide: this.options.probeSide ?? 640,
        }),
      })),
    );
  }

  /**
   * The strongest candidates of some searches, best first: their faces, or their hints when they found
   * none (an upright face needs no weak company to vote, and each check costs four model runs).
   */
  private candidates(searches: TurnedSearch[]): FaceBox[] {
    const byScore = (a: FaceBox, b: FaceBox) => b.score - a.score;
    const faces = searches.flatMap((s) => s.result.faces);
    const pool = faces.length > 0 ? faces : searches.flatMap((s) => s.result.hints);
    return pool.sort(byScore).slice(0, this.options.candidates ?? 3);
  }

  /** Each candidate, cut out of the picture and seen at the four turns, votes for one. */
  private check(pyramid: ImagePyramid, candidates: FaceBox[]): Promise<(TurnVote & { face: FaceBox })[]> {
    const side = this.options.checkSide ?? 96;
    return Promise.all(
      candidates.map(async (face) => {
        const { image, scale } = await pyramid.levelFor(2 * Math.max(face.w, face.h), side);
        const crop = sampleRegion(image, faceSquare(face, scale), side, side);
        const found = await this.detector.detect(
          QUARTER_TURNS.map((turn) => ({ image: crop, view: { turn, mirror: false } })),
          this.hintThreshold,
        );
        const scores = found.map((faces) => findCentredFace(faces, side)?.score ?? 0);
        const best = scores.indexOf(Math.max(...scores));
        return { turn: QUARTER_TURNS[best]!, score: scores[best]!, face };
      }),
    );
  }
}

/** Overlap at which a face of the winning turn and an upright one are taken for the same person. */
const MIN_OVERLAP = 0.1;
