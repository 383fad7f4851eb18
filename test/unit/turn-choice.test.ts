import { expect } from 'chai';
import {
  chooseTurn,
  faceEvidence,
  findCentredFace,
  faceSquare,
  strongestTurn,
  turnEvidence,
  standsUpright,
} from '../../worker/detection/turn-choice.js';

/** Upright landmarks of a face whose box is (0, 0, 100, 100), turned clockwise by `degrees` about its centre. */
const landmarks = (degrees: number) => {
  const a = (degrees * Math.PI) / 180;
  const upright = [30, 40, 70, 40, 50, 60, 35, 80, 65, 80];
  return upright.map((_, i) => {
    const [x, y] = [upright[i - (i % 2)]! - 50, upright[i - (i % 2) + 1]! - 50];
    return i % 2 === 0 ? 50 + x * Math.cos(a) - y * Math.sin(a) : 50 + x * Math.sin(a) + y * Math.cos(a);
  });
};

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

  it('when a face stands upright in the picture turned by some turn, then its landmarks stand upright at that turn only, tilted or not', () => {
    expect(standsUpright(landmarks(0), 0)).to.equal(true);
    // A picture turned 90° clockwise to be upright holds the face turned 90° counter-clockwise.
    expect(standsUpright(landmarks(-90), 90)).to.equal(true);
    expect(standsUpright(landmarks(180), 180)).to.equal(true);
    expect(standsUpright(landmarks(90), 270)).to.equal(true);
    for (const turn of [90, 180, 270] as const) expect(standsUpright(landmarks(0), turn)).to.equal(false);
    for (const tilt of [-40, -20, 20, 40])
      expect(standsUpright(landmarks(tilt), 0), `${tilt}°`).to.equal(true);
    for (const tilt of [-50, 50, 180]) expect(standsUpright(landmarks(tilt), 0), `${tilt}°`).to.equal(false);
  });

  it('when faces are weighed, then a marginal score or eyes below the mouth weigh nothing, and a strong upright face most', () => {
    const at = (score: number, degrees = 0) => ({
      x: 0,
      y: 0,
      w: 100,
      h: 100,
      score,
      landmarks: landmarks(degrees),
    });
    expect(faceEvidence(at(0.95), 0)).to.be.closeTo(0.25, 1e-9);
    expect(faceEvidence(at(0.7), 0)).to.equal(0);
    expect(faceEvidence(at(0.95, 180), 0)).to.equal(0);
    expect(turnEvidence([at(0.73), at(0.75)], 0)).to.be.closeTo(0.08, 1e-9);
    expect(turnEvidence([at(0.73), at(0.75)], 0)).to.be.lessThan(faceEvidence(at(0.9), 0));
  });

  it('when turns have equal evidence, then the smaller turn wins, so upright wins a tie', () => {
    expect(
      strongestTurn([
        { turn: 90, evidence: 0.3 },
        { turn: 0, evidence: 0.3 },
      ]).turn,
    ).to.equal(0);
    expect(
      strongestTurn([
        { turn: 0, evidence: 0.1 },
        { turn: 270, evidence: 0.3 },
      ]).turn,
    ).to.equal(270);
  });
});
