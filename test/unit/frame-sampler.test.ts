import { expect } from 'chai';
import { planSamples, prefersOnePass, sampleFrameIndexes } from '../../worker/video/frame-sampler.js';

describe('sampleFrameIndexes', () => {
  it('when one frame is asked, then it is frame 0', () => {
    expect(sampleFrameIndexes(275, 1)).to.deep.equal([0]);
  });

  it('when 5 of 275 frames are asked, then they are round(k·275/5)', () => {
    expect(sampleFrameIndexes(275, 5)).to.deep.equal([0, 55, 110, 165, 220]);
  });

  it('when the step is fractional, then each index is rounded half up', () => {
    // 10/4 = 2.5 → 3, 5, 7.5 → 8
    expect(sampleFrameIndexes(10, 4)).to.deep.equal([0, 3, 5, 8]);
    expect(sampleFrameIndexes(7, 3)).to.deep.equal([0, 2, 5]);
  });

  it('when the video has fewer frames than asked, then each frame is given once', () => {
    expect(sampleFrameIndexes(3, 5)).to.deep.equal([0, 1, 2]);
    expect(sampleFrameIndexes(3, 100)).to.deep.equal([0, 1, 2]);
    expect(sampleFrameIndexes(1, 100)).to.deep.equal([0]);
  });

  it('when as many frames are asked as there are, then every frame is given', () => {
    expect(sampleFrameIndexes(6, 6)).to.deep.equal([0, 1, 2, 3, 4, 5]);
  });

  it('when the video has no frames, then there are no samples', () => {
    expect(sampleFrameIndexes(0, 5)).to.deep.equal([]);
  });

  it('when 100 frames are asked of any length, then indexes are distinct, ascending and in range', () => {
    for (const total of [1, 99, 100, 101, 275, 18150]) {
      const picked = sampleFrameIndexes(total, 100);
      expect(picked.length).to.equal(Math.min(total, 100));
      picked.forEach((frame, i) => {
        expect(frame).to.be.within(0, total - 1);
        if (i > 0) expect(frame).to.be.greaterThan(picked[i - 1] ?? -1);
      });
    }
  });

  it('when n is not a positive integer, then it throws', () => {
    expect(() => sampleFrameIndexes(10, 0)).to.throw(RangeError);
    expect(() => sampleFrameIndexes(10, 1.5)).to.throw(RangeError);
  });
});

describe('planSamples', () => {
  // B-frame style: 25 fps from 0.852019 s
  const pts = Array.from({ length: 10 }, (_, i) => 0.852019 + i * 0.04);
  const timeline = { count: pts.length, ptsOf: (i: number) => pts[i] ?? NaN };

  it('when planned, then keys are source frame numbers and times are their pts to 3 decimals', () => {
    const samples = planSamples(timeline, 2);
    expect(samples.map((s) => s.key)).to.deep.equal(['0', '5']);
    expect(samples.map((s) => s.frameNumber)).to.deep.equal([0, 5]);
    expect(samples.map((s) => s.index)).to.deep.equal([0, 1]);
    expect(samples.map((s) => s.time)).to.deep.equal([0.852, 1.052]);
  });

  it('when the container starts late, then frame times count from its start and pts stay as stamped', () => {
    const samples = planSamples(timeline, 2, 0.852019);
    expect(samples.map((s) => s.time)).to.deep.equal([0, 0.2]);
    expect(samples.map((s) => s.pts)).to.deep.equal([pts[0], pts[5]]);
  });

  it('when a header claims a billion frames, then planning touches only the sampled ones', () => {
    const asked: number[] = [];
    const huge = { count: 1e9, ptsOf: (i: number) => (asked.push(i), i / 30) };
    expect(planSamples(huge, 5).map((s) => s.frameNumber)).to.deep.equal([0, 2e8, 4e8, 6e8, 8e8]);
    expect(asked).to.have.length(5);
  });

  it('when planned, then the exact pts is kept for seeking', () => {
    expect(planSamples(timeline, 2).map((s) => s.pts)).to.deep.equal([pts[0], pts[5]]);
  });
});

describe('prefersOnePass', () => {
  it('when samples are sparse against keyframes, then seeking wins', () => {
    // 18 000 frames, a keyframe every 60, 5 samples
    const keyframes = Array.from({ length: 300 }, (_, i) => i * 60);
    expect(prefersOnePass([0, 3600, 7200, 10800, 14400], keyframes, 60)).to.equal(false);
  });

  it('when samples are dense, then one pass wins', () => {
    // 275 frames, 6 keyframes, 100 samples
    const keyframes = [0, 50, 100, 150, 200, 250];
    const frames = Array.from({ length: 100 }, (_, k) => Math.round((k * 275) / 100));
    expect(prefersOnePass(frames, keyframes, 60)).to.equal(true);
  });

  it('when the only keyframe is the first, then a few samples already favour one pass', () => {
    expect(prefersOnePass([0, 300, 600], [0], 60)).to.equal(true);
  });

  it('when keyframes are unknown, then seeking is chosen', () => {
    expect(prefersOnePass([0, 1, 2, 3], [], 60)).to.equal(false);
  });

  it('when one sample is asked, then seeking is chosen', () => {
    expect(prefersOnePass([0], [0], 60)).to.equal(false);
  });
});
