import { DETECTOR_FAMILIES, type ScoreScale } from '../../shared/detectors/detector-families.js';
import type { Detector } from './detector.js';
import { iou, type FaceBox } from './face-types.js';
import type { ImagePyramid } from './image-pyramid.js';
import type { PyramidSearch, SearchResult } from './pyramid-search.js';
import { mergeScales } from './scale-plan.js';
import {
  chooseTurn,
  faceEvidence,
  faceSquare,
  findCentredFace,
  strongestTurn,
  turnEvidence,
  type TurnVote,
} from './turn-choice.js';
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
   * @defaultValue the scale's `evidenceFrom`
   */
  minEvidence?: number;
  /**
   * Longer side of the probes that look for turned faces when the upright evidence is weak: the passes up
   * to this size run at the three other turns first, the finer ones only if those cannot decide.
   * @defaultValue 640
   */
  probeSide?: number;
  /**
   * Where the model's scores lie (its family's, shared/detectors).
   * @defaultValue YuNet's
   */
  scores?: ScoreScale;
  /**
   * Most aligned views a large face's landmarks are refined over.
   * @defaultValue YuNet's
   */
  landmarkViews?: number;
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
  /** The result's evidence for its turn (see turnEvidence). */
  evidence: number;
}

/**
 * Finds faces whatever the picture's quarter turn, paying for the search only when the picture needs it:
 * - the upright search runs as without rotation, also keeping every detection down to a fixed low score
 *   as evidence, so that the turn never depends on the request's filters;
 * - its best candidates are each checked in a small square at the four turns (four model runs of 96²,
 *   a few percent of the upright search); strong evidence (a face scoring 0.9 or more with upright
 *   landmarks, or several good ones) at the turn they vote for settles it, so a portrait pays no more;
 * - otherwise cheap probes (the coarse passes) run at the three other turns, the finer passes too when
 *   these cannot beat upright, and the turn with the most evidence wins, so no one marginal face decides;
 * - each face's landmarks are then refined in an aligned view (see LandmarkRefiner).
 */
export class OrientationSearch {
  private readonly refiner: LandmarkRefiner;
  private readonly scores: ScoreScale;
  /**
   * Evidence of one face scoring the scale's `strong` with upright landmarks: enough for a turn on its own,
   * when the face's own check agrees. Faces at their own turn score that about one time in ten.
   */
  private readonly strongEvidence: number;

  constructor(
    private readonly detector: Detector,
    private readonly pyramids: PyramidSearch,
    private readonly options: OrientationSearchOptions,
  ) {
    this.scores = options.scores ?? DETECTOR_FAMILIES.yunet.scores;
    this.strongEvidence = this.scores.strong - this.scores.evidenceFrom;
    this.refiner = new LandmarkRefiner(detector, {
      threshold: this.scores.collectFrom,
      maxRounds: options.landmarkViews ?? DETECTOR_FAMILIES.yunet.landmarkViews,
    });
  }

  async detect(pyramid: ImagePyramid, request: OrientedRequest): Promise<OrientedFaces> {
    if (request.turn !== undefined) {
      const { faces } = await this.pyramids.search(pyramid, { ...request, turn: request.turn });
      return { faces: await this.refiner.refine(pyramid, faces), turn: request.turn, decided: false };
    }
    // Upright's faces, when their evidence is strong, are refined while their turn is checked, as upright is
    // then the usual answer: for a model of fixed input the views share the checks' canvases instead of
    // costing canvases of their own.
    let early: { faces: readonly FaceBox[]; refined: Promise<FaceBox[]> } | undefined;
    const found = await this.search(pyramid, request, (faces) => {
      early = { faces, refined: this.refiner.refine(pyramid, faces) };
      // Awaited below when used; a failure then is the answer's, and is not left unhandled meanwhile.
      early.refined.catch(() => undefined);
    });
    const faces =
      early?.faces === found.faces ? await early.refined : await this.refiner.refine(pyramid, found.faces);
    return { ...found, faces };
  }

  private async search(
    pyramid: ImagePyramid,
    request: OrientedRequest,
    onUpright: (faces: readonly FaceBox[]) => void,
  ): Promise<OrientedFaces> {
    // min_face_size filters the answer later, like max_faces; here it would hide evidence.
    // A full search at a turn runs once, whichever step asks for it.
    const full = new Map<QuarterTurn, Promise<TurnedSearch>>();
    const at = (turn: QuarterTurn, maxSide?: number) => {
      if (maxSide !== undefined)
        return this.searchAt(pyramid, { threshold: request.threshold, turn, maxSide });
      if (!full.has(turn)) full.set(turn, this.searchAt(pyramid, { threshold: request.threshold, turn }));
      return full.get(turn)!;
    };
    const upright = await at(0);
    // Only strong upright evidence makes upright the likely answer; weak evidence leads to other turns.
    if (upright.evidence >= this.strongEvidence) onUpright(upright.result.faces);
    const votes = await this.check(pyramid, this.candidates(upright.result.evidence));
    const won = await this.decide(pyramid, upright, votes, at);
    const decided = won.evidence > 0 && won.result.faces.length > 0;
    if (won.turn === 0) return { faces: upright.result.faces, turn: 0, decided };
    // A picture may hold people at more than one turn: an upright face stays when it is strong evidence
    // of upright by itself, unless its own check saw it better at another turn, or a face of the winning
    // turn lies on it.
    const elsewhere = votes.filter((v) => v.turn !== 0 && v.score >= this.minEvidence).map((v) => v.face);
    const turned = won.result.faces;
    const uprightKept = upright.result.faces.filter(
      (f) =>
        faceEvidence(f, 0, this.scores.evidenceFrom) >= this.strongEvidence &&
        !elsewhere.some((e) => iou(e, f) > SAME_FACE) &&
        !turned.some((t) => iou(t, f) > MIN_OVERLAP),
    );
    return { faces: mergeScales([...turned, ...uprightKept], this.options.nmsIou), turn: won.turn, decided };
  }

  /**
   * The turn whose faces give the most evidence:
   * - a turn settles it alone when upright's candidates' checks see them best at it and its own evidence
   *   is strong (and, for another turn, more than upright's);
   * - else the probes' coarse passes run at the other turns (for a picture no larger than the probe,
   *   its whole search); a probe that beats upright with them alone is searched in full, with the
   *   opposite turn unless checks confirm it (see rivals), and the stronger settles it if strong;
   * - else every other turn is searched in full (the probes' passes are not run again), and the most
   *   evidence wins, if strong or if upright's checks do not see upright.
   */
  private async decide(
    pyramid: ImagePyramid,
    upright: TurnedSearch,
    votes: readonly TurnVote[],
    at: (turn: QuarterTurn, maxSide?: number) => Promise<TurnedSearch>,
  ): Promise<TurnedSearch> {
    const voted = chooseTurn(votes, this.minEvidence);
    if (voted === 0 && upright.evidence >= this.strongEvidence) return upright;
    if (voted !== undefined && voted !== 0) {
      const full = await at(voted);
      if (full.evidence >= this.strongEvidence && full.evidence > upright.evidence) return full;
    }
    const others = QUARTER_TURNS.filter((t) => t !== 0);
    const probes = await Promise.all(others.map((turn) => at(turn, this.options.probeSide ?? 640)));
    const best = strongestTurn(probes);
    const inFull = (searches: TurnedSearch[]) =>
      Promise.all(searches.map((p) => (p.result.complete ? Promise.resolve(p) : at(p.turn))));
    // Probes of a picture no larger than them are its whole search, compared as they are.
    if (best.evidence > upright.evidence && !best.result.complete) {
      const won = strongestTurn([upright, ...(await inFull(await this.rivals(pyramid, best, probes)))]);
      if (won.evidence >= this.strongEvidence) return won;
    }
    const won = strongestTurn([upright, ...(await inFull(probes))]);
    // Weak evidence elsewhere does not overrule upright candidates whose checks see them upright (a
    // profile whose landmarks stray, against two 'faces' at 0.73 and 0.79 in a video frame turned 270°).
    return won.evidence < this.strongEvidence && voted === 0 ? upright : won;
  }

  /**
   * The probes to search in full when `best` beats upright: it, and the opposite turn when that saw faces
   * too and the checks of `best`'s strongest faces do not confirm `best`. YuNet scores an upside-down face
   * almost as high as an upright one (portraits 0.87–0.90 against 0.92–0.95), so the coarse probes alone
   * may rank the two wrongly; the checks see the faces at the size the model sees best.
   */
  private async rivals(pyramid: ImagePyramid, best: TurnedSearch, probes: TurnedSearch[]) {
    const opposite = probes.find((p) => p.turn === (best.turn + 180) % 360 && p.evidence > 0);
    if (!opposite) return [best];
    const votes = await this.check(pyramid, this.candidates(best.result.evidence));
    return chooseTurn(votes, this.minEvidence) === best.turn ? [best] : [best, opposite];
  }

  private async searchAt(
    pyramid: ImagePyramid,
    request: { threshold: number; turn: QuarterTurn; maxSide?: number },
  ): Promise<TurnedSearch> {
    const result = await this.pyramids.search(pyramid, {
      ...request,
      evidenceThreshold: this.scores.collectFrom,
    });
    return {
      turn: request.turn,
      result,
      evidence: turnEvidence(result.evidence, request.turn, this.scores.evidenceFrom),
    };
  }

  private get minEvidence() {
    return this.options.minEvidence ?? this.scores.evidenceFrom;
  }

  /** The strongest detections, best first: each check costs four model runs. */
  private candidates(evidence: readonly FaceBox[]): FaceBox[] {
    return [...evidence].sort((a, b) => b.score - a.score).slice(0, this.options.candidates ?? 3);
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
          this.scores.collectFrom,
          pyramid,
        );
        const scores = found.map((faces) => findCentredFace(faces, side)?.score ?? 0);
        const best = scores.indexOf(Math.max(...scores));
        return { turn: QUARTER_TURNS[best]!, score: scores[best]!, face };
      }),
    );
  }
}

/** Overlap at which a checked candidate and an upright face are one detection (NMS keeps 0.3 apart). */
const SAME_FACE = 0.5;

/** Overlap at which a face of the winning turn and an upright one are taken for the same person. */
const MIN_OVERLAP = 0.1;
