import { expect } from 'chai';
import {
  faceToPicture,
  pixelMap,
  pointToPicture,
  QUARTER_TURNS,
  viewSize,
} from '../../worker/detection/view-transform.js';

const W = 4;
const H = 3;

/** Where picture pixel (x, y) lands in the view, by pixelMap. */
function lands(view: { turn: 0 | 90 | 180 | 270; mirror: boolean }, x: number, y: number) {
  const { col0, row0, dCol, dRow } = pixelMap(view, W, H, y);
  return [col0 + x * dCol, row0 + x * dRow];
}

describe('view transforms', () => {
  it('when a picture is turned 90° clockwise, then its top-left pixel lands top-right and the view is H×W', () => {
    expect(viewSize(90, W, H)).to.deep.equal({ width: H, height: W });
    expect(lands({ turn: 90, mirror: false }, 0, 0)).to.deep.equal([H - 1, 0]);
    expect(lands({ turn: 90, mirror: false }, W - 1, 0)).to.deep.equal([H - 1, W - 1]);
    expect(lands({ turn: 180, mirror: false }, 0, 0)).to.deep.equal([W - 1, H - 1]);
    expect(lands({ turn: 270, mirror: false }, 0, 0)).to.deep.equal([0, W - 1]);
    expect(lands({ turn: 0, mirror: true }, 0, 0)).to.deep.equal([W - 1, 0]);
  });

  it('when every pixel is mapped at every turn and mirror, then each view pixel is hit exactly once and pixel centres map back', () => {
    for (const turn of QUARTER_TURNS) {
      for (const mirror of [false, true]) {
        const view = { turn, mirror };
        const seen = viewSize(turn, W, H);
        const hits = new Set<string>();
        for (let y = 0; y < H; y++) {
          for (let x = 0; x < W; x++) {
            const [c, r] = lands(view, x, y);
            expect(c).to.be.within(0, seen.width - 1);
            expect(r).to.be.within(0, seen.height - 1);
            hits.add(`${c},${r}`);
            const [bx, by] = pointToPicture(view, W, H, c! + 0.5, r! + 0.5);
            expect([bx, by]).to.deep.equal([x + 0.5, y + 0.5]);
          }
        }
        expect(hits.size).to.equal(W * H);
      }
    }
  });

  it('when a face is found in a turned view, then its box maps back and its landmarks keep their order', () => {
    // A face seen upright in the 90° view of a 100×60 picture (view 60×100).
    const inView = {
      x: 10,
      y: 20,
      w: 30,
      h: 40,
      score: 0.9,
      landmarks: [15, 30, 35, 30, 25, 40, 18, 50, 32, 50],
    };
    const back = faceToPicture(inView, { turn: 90, mirror: false }, 100, 60);
    expect([back.x, back.y, back.w, back.h]).to.deep.equal([20, 60 - 40, 40, 30]);
    // The view turned the picture 90° clockwise, so in the picture the face lies turned 90° the other
    // way: the subject's left eye, (15, 30) in the view, is the lower one, (30, 45) against (30, 25).
    expect(back.landmarks.slice(0, 4)).to.deep.equal([30, 45, 30, 25]);
  });

  it('when a face is found in a mirrored view, then eyes and mouth corners swap back', () => {
    const inView = {
      x: 10,
      y: 0,
      w: 20,
      h: 20,
      score: 0.9,
      landmarks: [12, 5, 28, 5, 20, 10, 14, 15, 26, 15],
    };
    const back = faceToPicture(inView, { turn: 0, mirror: true }, 100, 50);
    expect(back.x).to.equal(70);
    expect(back.landmarks).to.deep.equal([72, 5, 88, 5, 80, 10, 74, 15, 86, 15]);
  });
});
