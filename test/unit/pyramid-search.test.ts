import { expect } from 'chai';
import type { Detector, DetectorInput } from '../../worker/detection/detector.js';
import type { FaceBox, RawImage } from '../../worker/detection/face-types.js';
import { ImagePyramid } from '../../worker/detection/image-pyramid.js';
import { PyramidSearch } from '../../worker/detection/pyramid-search.js';
import { planScales } from '../../worker/detection/scale-plan.js';
import type { QuarterTurn } from '../../worker/detection/view-transform.js';

const WIDTH = 400;
const HEIGHT = 300;

const face = (x: number, y: number, w: number, h: number, score: number, shift = 0): FaceBox => ({
  x,
  y,
  w,
  h,
  score,
  landmarks: [0.3, 0.4, 0.7, 0.4, 0.5, 0.6, 0.35, 0.8, 0.65, 0.8].map(
    (k, i) => (i % 2 === 0 ? x + k * w : y + k * h) + shift,
  ),
});

/** A picture whose pixels tell where they are, so a crop of it says where it was cut from. */
function locatingPicture(): RawImage {
  const data = new Uint8Array(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = (y * WIDTH + x) * 3;
      data[i] = x & 255;
      data[i + 1] = y & 255;
      data[i + 2] = (x >> 8) | ((y >> 8) << 4);
    }
  }
  return { data, width: WIDTH, height: HEIGHT, channels: 3 };
}

/**
 * A detector that finds `upright` in the whole finest picture, nothing in the coarser one, and, in a
 * mirrored view of the picture or of a crop of it, those of `mirrored` that lie within it, in that input's
 * own pixels, as the real detector answers.
 */
class ScriptedDetector implements Detector {
  readonly mirrorInputs: DetectorInput[] = [];

  constructor(
    private readonly upright: FaceBox[],
    private readonly mirrored: FaceBox[],
  ) {}

  detect(inputs: DetectorInput[]): Promise<FaceBox[][]> {
    return Promise.resolve(inputs.map((input) => this.answer(input)));
  }

  private answer({ image, view }: DetectorInput): FaceBox[] {
    if (!view.mirror) return image.width === WIDTH ? this.upright : [];
    this.mirrorInputs.push({ image, view });
    const [r, g, b] = image.data;
    const x0 = r! + ((b! & 15) << 8);
    const y0 = g! + ((b! >> 4) << 8);
    return this.mirrored
      .filter(
        (f) => f.x >= x0 && f.y >= y0 && f.x + f.w <= x0 + image.width && f.y + f.h <= y0 + image.height,
      )
      .map((f) => ({
        ...f,
        x: f.x - x0,
        y: f.y - y0,
        landmarks: f.landmarks.map((v, i) => v - (i % 2 === 0 ? x0 : y0)),
      }));
  }
}

async function search(detector: Detector, turn: QuarterTurn = 0) {
  const finest = locatingPicture();
  const resize = (_: RawImage, width: number, height: number) =>
    Promise.resolve({ data: new Uint8Array(width * height * 3), width, height, channels: 3 });
  const pyramid = new ImagePyramid(
    WIDTH,
    HEIGHT,
    planScales(WIDTH, HEIGHT, { maxSide: 1280 }),
    finest,
    resize,
  );
  const { faces } = await new PyramidSearch(detector, { nmsIou: 0.3 }).search(pyramid, {
    turn,
    threshold: 0.6,
  });
  return faces;
}

describe('PyramidSearch: small faces confirmed by the mirrored view', () => {
  it('when a small face stands alone and the mirror shows it, then it is kept, checked in a window around it only, with averaged landmarks', async () => {
    const detector = new ScriptedDetector([face(200, 150, 20, 20, 0.8)], [face(201, 150, 20, 20, 0.7, 2)]);
    const [kept, ...more] = await search(detector);
    expect(more).to.have.length(0);
    expect(kept).to.deep.include({ x: 200, y: 150, w: 20, h: 20, score: 0.8 });
    expect(kept!.landmarks[0]).to.be.closeTo(200 + 0.3 * 20 + 1.5, 1e-9);
    expect(detector.mirrorInputs).to.have.length(1);
    expect(detector.mirrorInputs[0]!.image).to.deep.include({ width: 116, height: 116 });
  });

  it('when the mirror does not show a small face, then it is dropped', async () => {
    expect(await search(new ScriptedDetector([face(200, 150, 20, 20, 0.8)], []))).to.deep.equal([]);
  });

  it('when small faces lie inside a large one, then the merge drops them and no mirrored view runs', async () => {
    const large = face(100, 60, 180, 180, 0.95);
    const detector = new ScriptedDetector(
      [large, face(150, 120, 20, 20, 0.9), face(200, 180, 16, 16, 0.7)],
      [],
    );
    expect(await search(detector)).to.deep.equal([large]);
    expect(detector.mirrorInputs).to.have.length(0);
  });

  it('when a small face is only hidden by another small one that the merge drops, then the mirror still decides on it', async () => {
    // B suppresses A (IoU 0.6) and lies 75 % inside the large face, so the merge drops it; A lies only
    // 50 % inside and would stand without B. The mirror shows A (IoU 0.71), not B (0.41).
    const large = face(100, 60, 180, 180, 0.95);
    const a = face(268, 100, 24, 24, 0.8);
    const detector = new ScriptedDetector(
      [large, face(262, 100, 24, 24, 0.9), a],
      [face(272, 100, 24, 24, 0.7)],
    );
    const faces = await search(detector);
    expect(faces.map((f) => [f.x, f.score])).to.have.deep.members([
      [100, 0.95],
      [268, 0.8],
    ]);
    expect(detector.mirrorInputs).to.have.length(1);
  });

  it('when the search runs at a quarter turn, then the windows are seen at that turn, mirrored, and map back to the picture', async () => {
    for (const turn of [90, 270] as const) {
      const detector = new ScriptedDetector([face(30, 20, 20, 20, 0.8)], [face(30, 21, 20, 20, 0.7)]);
      const faces = await search(detector, turn);
      expect(
        faces.map((f) => [f.x, f.y]),
        `turn ${turn}`,
      ).to.deep.equal([[30, 20]]);
      expect(detector.mirrorInputs[0]!.view).to.deep.equal({ turn, mirror: true });
      expect(detector.mirrorInputs[0]!.image).to.deep.include({ width: 98, height: 88 });
    }
  });

  it('when small faces are spread over most of the picture, then the whole picture is seen mirrored once', async () => {
    const spread = [
      face(40, 40, 30, 30, 0.8),
      face(330, 40, 30, 30, 0.8),
      face(40, 230, 30, 30, 0.8),
      face(330, 230, 30, 30, 0.8),
    ];
    const detector = new ScriptedDetector(spread, spread.slice(0, 2));
    expect(await search(detector)).to.have.length(2);
    expect(detector.mirrorInputs.map((i) => i.image.width)).to.deep.equal([WIDTH]);
  });
});
