import { expect } from 'chai';
import type { FaceBox } from '../../worker/detection/face-types.js';
import { nms } from '../../worker/detection/nms.js';
import { mergeScales, passesFor, planScales, selectAndMap } from '../../worker/detection/scale-plan.js';

const box = (x: number, y: number, w: number, h: number, score = 0.9): FaceBox => ({
  x,
  y,
  w,
  h,
  score,
  landmarks: new Array(10).fill(0),
});

describe('planScales', () => {
  it('when the image is large, then the finest pass is capped at maxSide and passes halve down to at most 320', () => {
    const passes = planScales(1920, 1080, { maxSide: 1280 });
    expect(passes.map((p) => [p.width, p.height])).to.deep.equal([
      [1280, 720],
      [640, 360],
      [320, 180],
    ]);
    expect(passes[0]!.minFace).to.equal(0);
    expect(passes[2]!.maxFace).to.equal(Infinity);
  });

  it('when the image is small, then it is not enlarged and a single pass answers for every size', () => {
    const passes = planScales(300, 200, { maxSide: 1280 });
    expect(passes).to.deep.equal([{ width: 300, height: 200, minFace: 0, maxFace: Infinity }]);
  });

  it('when bands are planned, then neighbouring bands overlap so no face size falls between them', () => {
    const passes = planScales(1000, 1000, { maxSide: 1000 });
    expect(passes).to.have.length(3);
    // a face of size z at the finest pass is z/2^k at pass k
    for (let z = 1; z < 2000; z *= 1.1) {
      const covered = passes.some((p, k) => z / 2 ** k >= p.minFace && z / 2 ** k < p.maxFace);
      expect(covered, `size ${z}`).to.equal(true);
    }
  });
});

describe('selectAndMap', () => {
  it('when faces are outside the pass band, then they are dropped, and kept ones are scaled to the original', () => {
    const pass = { width: 500, height: 250, minFace: 10, maxFace: 100 };
    const mapped = selectAndMap(
      [box(10, 10, 5, 5), box(100, 50, 40, 40), box(0, 0, 200, 200)],
      pass,
      1000,
      750,
    );
    expect(mapped).to.have.length(1);
    expect(mapped[0]).to.include({ x: 200, y: 150, w: 80, h: 120 });
  });
});

describe('nms and mergeScales', () => {
  it('when boxes overlap above the IoU threshold, then only the best scoring one stays', () => {
    const kept = nms([box(0, 0, 10, 10, 0.8), box(1, 1, 10, 10, 0.95), box(50, 50, 10, 10, 0.7)], 0.3);
    expect(kept.map((b) => b.score)).to.deep.equal([0.95, 0.7]);
  });

  it('when small boxes lie inside a much larger face, then they are dropped as face parts', () => {
    const merged = mergeScales(
      [box(0, 0, 300, 400, 0.9), box(100, 300, 30, 30, 0.95), box(400, 0, 30, 30, 0.8)],
      0.3,
    );
    expect(merged.map((b) => [b.x, b.w])).to.deep.equal([
      [0, 300],
      [400, 30],
    ]);
  });
});

describe('passesFor', () => {
  it('when min_face_size is larger than what the fine passes answer for, then only coarser passes run', () => {
    const passes = planScales(1920, 1080, { maxSide: 1280 });
    expect(passes).to.have.length(3);
    expect(passesFor(passes, 1920, 0).map((p) => p.index)).to.deep.equal([0, 1, 2]);
    // The finest pass answers for faces up to 200 of its pixels, 300 of the picture's.
    expect(passesFor(passes, 1920, 299).map((p) => p.index)).to.deep.equal([0, 1, 2]);
    expect(passesFor(passes, 1920, 301).map((p) => p.index)).to.deep.equal([1, 2]);
    expect(passesFor(passes, 1920, 100_000).map((p) => p.index)).to.deep.equal([2]);
  });
});
