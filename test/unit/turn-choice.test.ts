import { expect } from 'chai';
import { chooseTurn, findCentredFace, faceSquare } from '../../worker/detection/turn-choice.js';

const face = (cx: number, cy: number, size: number, score: number) => ({
  x: cx - size / 2,
  y: cy - size / 2,
  w: size,
  h: size,
  score,
  landmarks: [],
});

describe('orientation choice', () => {
  it('when most candidates see their face best at 90°, then 90 is chosen, weighted by score', () => {
    expect(
      chooseTurn(
        [
          { turn: 90, score: 0.9 },
          { turn: 90, score: 0.85 },
          { turn: 0, score: 0.92 },
        ],
        0.7,
      ),
    ).to.equal(90);
    expect(
      chooseTurn(
        [
          { turn: 270, score: 0.95 },
          { turn: 0, score: 0.72 },
        ],
        0.7,
      ),
    ).to.equal(270);
  });

  it('when votes are below the evidence threshold, then no turn is chosen', () => {
    expect(chooseTurn([{ turn: 180, score: 0.69 }], 0.7)).to.equal(undefined);
    expect(chooseTurn([], 0.7)).to.equal(undefined);
  });

  it('when two turns have equal support, then the smaller turn wins, so upright wins a tie', () => {
    expect(
      chooseTurn(
        [
          { turn: 180, score: 0.8 },
          { turn: 0, score: 0.8 },
        ],
        0.7,
      ),
    ).to.equal(0);
  });

  it("when a candidate is checked, then its square is centred on it, twice its larger side, in the level's pixels", () => {
    expect(faceSquare({ x: 100, y: 50, w: 40, h: 60 }, 0.5, 12)).to.deep.equal({
      cx: 60,
      cy: 40,
      w: 60,
      h: 60,
      angle: 12,
    });
  });

  it('when a check square holds several faces, then only a centred one of plausible size counts', () => {
    const side = 128;
    expect(findCentredFace([face(64, 64, 64, 0.8), face(20, 20, 60, 0.95)], side)?.score).to.equal(0.8);
    expect(findCentredFace([face(64, 64, 20, 0.9)], side)).to.equal(undefined);
    expect(findCentredFace([face(64, 64, 125, 0.9)], side)).to.equal(undefined);
    expect(findCentredFace([face(110, 64, 64, 0.9)], side)).to.equal(undefined);
  });
});
