import { expect } from 'chai';
import { FaceTracker, type TrackableFace } from '../../worker/video/face-tracker.js';

/** A 100-px face at (x, y) with 5 landmarks placed as a frontal face's. */
function face(x: number, y: number, size = 100): TrackableFace {
  const at = (fx: number, fy: number): [number, number] => [x + fx * size, y + fy * size];
  return {
    box: [x, y, size, size],
    landmarks: [at(0.3, 0.4), at(0.7, 0.4), at(0.5, 0.6), at(0.35, 0.8), at(0.65, 0.8)],
  };
}

describe('FaceTracker', () => {
  it('when the first frame has faces, then ids start at 0 in input order and nothing is removed', () => {
    const tracker = new FaceTracker();
    expect(tracker.update([face(0, 0), face(300, 0)])).to.deep.equal({ ids: [0, 1], removed: [] });
  });

  it('when a face moves slightly, then it keeps its id', () => {
    const tracker = new FaceTracker();
    tracker.update([face(100, 100)]);
    expect(tracker.update([face(112, 95, 104)])).to.deep.equal({ ids: [0], removed: [] });
    expect(tracker.update([face(120, 90, 108)])).to.deep.equal({ ids: [0], removed: [] });
  });

  it('when two faces come in swapped order, then each keeps its id', () => {
    const tracker = new FaceTracker();
    tracker.update([face(0, 0), face(300, 0)]);
    expect(tracker.update([face(305, 2), face(4, 1)])).to.deep.equal({ ids: [1, 0], removed: [] });
  });

  it('when a face disappears, then it is removed in the next frame only', () => {
    const tracker = new FaceTracker();
    tracker.update([face(0, 0), face(300, 0)]);
    expect(tracker.update([face(0, 0)])).to.deep.equal({ ids: [0], removed: [1] });
    expect(tracker.update([face(0, 0)])).to.deep.equal({ ids: [0], removed: [] });
  });

  it('when a new face appears, then it gets the next id, and an id that left is never reused', () => {
    const tracker = new FaceTracker();
    tracker.update([face(0, 0), face(300, 0)]);
    tracker.update([face(0, 0)]);
    expect(tracker.update([face(0, 0), face(300, 0)])).to.deep.equal({ ids: [0, 2], removed: [] });
    expect(tracker.update([face(600, 0)])).to.deep.equal({ ids: [3], removed: [0, 2] });
  });

  it('when the scene cuts and boxes no longer overlap, then every face gets a new id', () => {
    const tracker = new FaceTracker();
    tracker.update([face(0, 0), face(300, 0)]);
    expect(tracker.update([face(150, 250), face(450, 250), face(50, 400, 60)])).to.deep.equal({
      ids: [2, 3, 4],
      removed: [0, 1],
    });
  });

  it('when a frame has no faces, then all previous ids are removed', () => {
    const tracker = new FaceTracker();
    tracker.update([face(0, 0), face(300, 0)]);
    expect(tracker.update([])).to.deep.equal({ ids: [], removed: [0, 1] });
    expect(tracker.update([])).to.deep.equal({ ids: [], removed: [] });
  });

  it('when a face overlaps a neighbour more than its own past position, then the closer match wins', () => {
    const tracker = new FaceTracker();
    tracker.update([face(0, 0), face(80, 0)]);
    // Both moved right by 10 px: each overlaps both old boxes, but its own far more.
    expect(tracker.update([face(90, 0), face(10, 0)])).to.deep.equal({ ids: [1, 0], removed: [] });
  });

  it('when the box overlaps but the landmarks sit elsewhere, then the id is not kept', () => {
    const tracker = new FaceTracker();
    tracker.update([face(0, 0)]);
    const elsewhere: TrackableFace = {
      box: [10, 10, 100, 100],
      landmarks: [
        [200, 200],
        [240, 200],
        [220, 220],
        [205, 240],
        [235, 240],
      ],
    };
    expect(tracker.update([elsewhere])).to.deep.equal({ ids: [1], removed: [0] });
  });

  it('when faces carry 6 landmarks on one side and 5 on the other, then the common ones are compared', () => {
    const tracker = new FaceTracker();
    const six = face(0, 0);
    tracker.update([{ ...six, landmarks: [...six.landmarks, [50, 80]] }]);
    expect(tracker.update([face(3, 3)]).ids).to.deep.equal([0]);
  });

  it('when faces have no landmarks, then box centres are compared', () => {
    const tracker = new FaceTracker();
    tracker.update([{ box: [0, 0, 100, 100], landmarks: [] }]);
    expect(tracker.update([{ box: [5, 5, 100, 100], landmarks: [] }]).ids).to.deep.equal([0]);
  });
});
