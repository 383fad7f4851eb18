import { expect } from 'chai';
import type { Detector, DetectorInput } from '../../worker/detection/detector.js';
import type { FaceBox, RawImage } from '../../worker/detection/face-types.js';
import { ImagePyramid } from '../../worker/detection/image-pyramid.js';
import { OrientationSearch } from '../../worker/detection/orientation-search.js';
import { PyramidSearch } from '../../worker/detection/pyramid-search.js';
import { planScales } from '../../worker/detection/scale-plan.js';
import { faceToPicture, type QuarterTurn } from '../../worker/detection/view-transform.js';

/** A face as the model sees it upright in a view: box and landmarks of an upright face, in view pixels. */
const viewFace = (x: number, y: number, size: number, score: number): FaceBox => ({
  x,
  y,
  w: size,
  h: size,
  score,
  landmarks: [0.3, 0.4, 0.7, 0.4, 0.5, 0.6, 0.35, 0.8, 0.65, 0.8].map(
    (k, i) => (i % 2 === 0 ? x : y) + k * size,
  ),
});

interface Script {
  /** Faces the model finds in the whole finest picture at each turn, in that turn's view pixels. */
  finest: Partial<Record<QuarterTurn, FaceBox[]>>;
  /** Score of the centred face a candidate's check square shows at each turn. */
  check: Partial<Record<QuarterTurn, number>>;
}

/**
 * A detector that answers the finest pass of a `width`×`height` picture from a script, in the picture's
 * pixels as the real one does, finds nothing in coarser passes or in the refiner's squares, and shows a
 * check square's centred face at the scripted score for each turn. It records which turns of the finest
 * pass were searched.
 */
class ScriptedDetector implements Detector {
  readonly finestTurns: QuarterTurn[] = [];

  constructor(
    private readonly width: number,
    private readonly height: number,
    private readonly script: Script,
  ) {}

  detect(inputs: DetectorInput[], threshold: number): Promise<FaceBox[][]> {
    return Promise.resolve(
      inputs.map(({ image, view }) =>
        this.answer(image, view.turn, view.mirror).filter((f) => f.score >= threshold),
      ),
    );
  }

  private answer(image: RawImage, turn: QuarterTurn, mirror: boolean): FaceBox[] {
    if (image.width === this.width && image.height === this.height && !mirror) {
      this.finestTurns.push(turn);
      return (this.script.finest[turn] ?? []).map((f) =>
        faceToPicture(f, { turn, mirror }, this.width, this.height),
      );
    }
    if (image.width === CHECK_SIDE && !mirror) {
      const score = this.script.check[turn] ?? 0;
      return score > 0 ? [viewFace(CHECK_SIDE / 4, CHECK_SIDE / 4, CHECK_SIDE / 2, score)] : [];
    }
    return [];
  }
}

const CHECK_SIDE = 96;

async function detect(width: number, height: number, script: Script, threshold = 0.6, minFaceSize?: number) {
  const detector = new ScriptedDetector(width, height, script);
  const blank = (w: number, h: number): RawImage => ({
    data: new Uint8Array(w * h * 3),
    width: w,
    height: h,
    channels: 3,
  });
  const pyramid = new ImagePyramid(
    width,
    height,
    planScales(width, height, { maxSide: 1280 }),
    blank(width, height),
    (_, w, h) => Promise.resolve(blank(w, h)),
  );
  const search = new OrientationSearch(detector, new PyramidSearch(detector, { nmsIou: 0.3 }), {
    nmsIou: 0.3,
  });
  return {
    found: await search.detect(pyramid, { threshold, minFaceSize }),
    finestTurns: detector.finestTurns,
  };
}

/** Three people of a picture turned 90° clockwise: upright at 270°, seen sideways (weakly) upright. */
const people = (score: number) => [
  viewFace(40, 60, 80, score),
  viewFace(160, 60, 80, score),
  viewFace(280, 60, 80, score),
];

describe('OrientationSearch', () => {
  it('when one marginal face is upright and three people stand at 270°, then 270° wins, whatever min_confidence or min_face_size', async () => {
    // 300×400: the picture turned 90°; at 270° the view is 400×300 and the people stand in it.
    const script: Script = {
      finest: {
        0: [viewFace(100, 150, 90, 0.73), viewFace(20, 20, 80, 0.45), viewFace(180, 20, 80, 0.5)],
        270: people(0.92),
      },
      // The marginal face's own check sees it best upright, as a fist may be.
      check: { 0: 0.75, 90: 0.4 },
    };
    for (const threshold of [0.6, 0.3]) {
      const { found } = await detect(300, 400, script, threshold);
      expect(found.turn, `min_confidence ${threshold}`).to.equal(270);
      expect(
        found.faces.filter((f) => f.score >= 0.9),
        `min_confidence ${threshold}`,
      ).to.have.length(3);
      expect(
        found.faces.some((f) => f.score === 0.73),
        'the marginal upright face',
      ).to.equal(false);
    }
    // min_face_size above the people's size filters them out of the answer later, not out of the evidence.
    expect((await detect(300, 400, script, 0.6, 250)).found.turn).to.equal(270);
  });

  it('when a strong upright face is confirmed by its check, then no other turn is searched', async () => {
    const { found, finestTurns } = await detect(400, 300, {
      finest: { 0: [viewFace(150, 80, 100, 0.95)], 180: [viewFace(150, 120, 100, 0.88)] },
      check: { 0: 0.95, 180: 0.86 },
    });
    expect(found.turn).to.equal(0);
    expect(found.faces).to.have.length(1);
    expect(finestTurns).to.deep.equal([0]);
  });

  it('when a picture larger than the probes shows its small faces only at 90° in the finest pass, then 90° wins', async () => {
    // 800×600: the probes (passes up to 640) cannot see faces that only the finest pass finds.
    const { found, finestTurns } = await detect(800, 600, {
      finest: {
        90: [viewFace(100, 100, 70, 0.85), viewFace(300, 100, 70, 0.8), viewFace(420, 300, 70, 0.82)],
      },
      check: {},
    });
    expect(found.turn).to.equal(90);
    expect(found.faces).to.have.length(3);
    expect(found.decided).to.equal(true);
    expect([...finestTurns].sort((a, b) => a - b)).to.deep.equal([0, 90, 180, 270]);
  });

  it('when a face lies on its side at the turn it was found at, then it is no evidence for that turn', async () => {
    // Found upright with a high score, but its eye line stands vertical: turned a quarter about its centre.
    const face = viewFace(150, 80, 100, 0.95);
    const [cx, cy] = [200, 130];
    const onItsSide = {
      ...face,
      landmarks: face.landmarks.map((v, i, l) =>
        i % 2 === 0 ? cx - (l[i + 1]! - cy) : cy + (l[i - 1]! - cx),
      ),
    };
    const { found } = await detect(400, 300, {
      finest: { 0: [onItsSide], 90: [viewFace(100, 150, 100, 0.8)] },
      // Its check sees it best at 90°, but that alone does not decide.
      check: { 0: 0.6, 90: 0.9 },
    });
    expect(found.turn).to.equal(90);
  });
});
