import { expect } from 'chai';
import type { Detector, DetectorInput } from '../../worker/detection/detector.js';
import type { FaceBox, RawImage } from '../../worker/detection/face-types.js';
import { ImagePyramid } from '../../worker/detection/image-pyramid.js';
import { LandmarkRefiner } from '../../worker/detection/landmark-refiner.js';
import { planScales } from '../../worker/detection/scale-plan.js';

const SIDE = 400;
const blank = (w: number, h: number): RawImage => ({
  data: new Uint8Array(w * h * 3),
  width: w,
  height: h,
  channels: 3,
});
const pyramid = () =>
  new ImagePyramid(SIDE, SIDE, planScales(SIDE, SIDE, { maxSide: SIDE }), blank(SIDE, SIDE), (_, w, h) =>
    Promise.resolve(blank(w, h)),
  );

/** A face of side `w` at (x, y), eyes level, in the pixels of whichever picture it is found in. */
const face = (x: number, y: number, w: number): FaceBox => ({
  x,
  y,
  w,
  h: w,
  score: 0.9,
  landmarks: [0.3, 0.4, 0.7, 0.4, 0.5, 0.6, 0.35, 0.8, 0.65, 0.8].map(
    (k, i) => (i % 2 === 0 ? x : y) + k * w,
  ),
});

/** Sees, in every view it is given, the face `offset` sample pixels right of where the frame put it. */
function detector(offset: number) {
  const runs: number[] = [];
  const fake: Detector = {
    detect: (inputs: DetectorInput[]) => {
      runs.push(inputs.length);
      return Promise.resolve(
        inputs.map(({ image }) => [face(image.width / 4 + offset, image.width / 4, image.width / 2)]),
      );
    },
  };
  return { fake, runs };
}

describe('LandmarkRefiner', () => {
  it('when a view sees the face where its frame put it, then the face is seen once, directly and mirrored', async () => {
    const { fake, runs } = detector(0);
    const [refined] = await new LandmarkRefiner(fake, { threshold: 0.3 }).refine(pyramid(), [
      face(150, 150, 64),
    ]);
    expect(runs).to.deep.equal([2]);
    expect(refined!.landmarks.map((v) => Math.round(v))).to.deep.equal(
      face(150, 150, 64).landmarks.map(Math.round),
    );
  });

  it('when every view sees the face elsewhere, then the largest faces are seen at most maxRounds times and the others once', async () => {
    const { fake, runs } = detector(6);
    const faces = [10, 60, 110, 160, 210, 260].map((at, i) => face(at, at, 40 - i));
    const refined = await new LandmarkRefiner(fake, { threshold: 0.3, maxRounds: 3, settledFaces: 2 }).refine(
      pyramid(),
      faces,
    );
    expect(refined).to.have.length(6);
    expect(runs.length).to.equal(2 * 3 + 4);
    expect(runs.every((n) => n === 2)).to.equal(true);
    // Boxes and scores stay as the search found them; the landmarks followed the views.
    expect(refined.map(({ x, y, w, h, score }) => ({ x, y, w, h, score }))).to.deep.equal(
      faces.map(({ x, y, w, h, score }) => ({ x, y, w, h, score })),
    );
    expect(refined[0]!.landmarks[0]).to.be.greaterThan(faces[0]!.landmarks[0]! + 1);
  });
});
