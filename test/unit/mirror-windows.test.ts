import { expect } from 'chai';
import { cropImage, mirrorWindows } from '../../worker/detection/mirror-windows.js';

const face = (x: number, y: number, w: number, h: number) => ({ x, y, w, h, score: 0.8, landmarks: [] });

describe('mirrorWindows', () => {
  it('when small faces lie close together, then one window holds them all with two face sizes of context, clipped to the picture', () => {
    const windows = mirrorWindows(
      [face(100, 100, 20, 20), face(130, 110, 20, 20), face(5, 10, 16, 16)],
      1280,
      720,
    );
    // 20 px faces get max(48, 40) = 48 px of context; the third, near the corner, is clipped at 0 and joins.
    expect(windows).to.deep.equal([{ x: 0, y: 0, w: 198, h: 178 }]);
  });

  it('when faces are far apart, then each has its own window, larger faces with more context', () => {
    const windows = mirrorWindows([face(100, 100, 20, 20), face(900, 400, 40, 40)], 1280, 720);
    expect(windows).to.deep.equal([
      { x: 52, y: 52, w: 116, h: 116 },
      { x: 820, y: 320, w: 200, h: 200 },
    ]);
  });

  it('when joining two windows makes them overlap a third, then all three become one', () => {
    // The first two windows, [52,168]² and [150,266]×[112,228], overlap; the third, [0,88]×[192,308],
    // overlaps neither, only the box that joins them.
    const faces = [face(100, 100, 20, 20), face(198, 160, 20, 20), face(20, 240, 20, 20)];
    expect(mirrorWindows(faces, 1280, 720)).to.deep.equal([{ x: 0, y: 52, w: 266, h: 256 }]);
  });

  it('when the windows would cover more than half of the picture, then there are none: the whole picture is cheaper', () => {
    const spread = [
      face(50, 50, 60, 60),
      face(400, 50, 60, 60),
      face(50, 300, 60, 60),
      face(400, 300, 60, 60),
    ];
    expect(mirrorWindows(spread, 640, 480)).to.equal(undefined);
  });

  it('when there are more faces than maxFaces, then there are none, which bounds the joining work', () => {
    const crowd = Array.from({ length: 17 }, (_, i) => face(10 + 19 * i, 10, 4, 4));
    expect(mirrorWindows(crowd, 20000, 20000)).to.equal(undefined);
    expect(mirrorWindows(crowd.slice(0, 16), 20000, 20000)).to.have.length(1);
  });

  it("when windows are padded to the model's multiples of 32, then their cost counts the padding", () => {
    // In a 170² picture (half: 14 450 px) a 20 px face's window is 116² = 13 456 px, padded 128² = 16 384.
    const small = [face(75, 75, 20, 20)];
    expect(mirrorWindows(small, 170, 170)).to.equal(undefined);
    expect(mirrorWindows(small, 170, 170, { padTo: 1 })).to.deep.equal([{ x: 27, y: 27, w: 116, h: 116 }]);
  });
});

describe('cropImage', () => {
  it('when a box is cut out, then its rows and channels are copied in order', () => {
    const width = 4;
    const data = Uint8Array.from({ length: width * 3 * 3 }, (_, i) => i);
    const crop = cropImage({ data, width, height: 3, channels: 3 }, { x: 1, y: 1, w: 2, h: 2 });
    expect(crop).to.deep.include({ width: 2, height: 2, channels: 3 });
    expect([...crop.data]).to.deep.equal([15, 16, 17, 18, 19, 20, 27, 28, 29, 30, 31, 32]);
  });
});
