import { expect } from 'chai';
import { faceQuality } from '../../worker/detection/face-quality.js';
import { regionToPicture, sampleRegion } from '../../worker/detection/resample.js';

function picture(width: number, height: number, pixel: (x: number, y: number) => number) {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data.fill(pixel(x, y), (y * width + x) * 3, (y * width + x) * 3 + 3);
  return { data, width, height, channels: 3 };
}

describe('face quality', () => {
  const box = { x: 0, y: 0, w: 128, h: 128 };

  it('when the face is a flat grey, then sharpness is 0 and brightness is its level', () => {
    const q = faceQuality(
      picture(128, 128, () => 51),
      box,
      1,
    );
    expect(q.sharpness).to.equal(0);
    expect(q.brightness).to.be.closeTo(0.2, 0.002);
  });

  it('when the face has fine contrast, then it reads sharper than a smooth ramp of the same range', () => {
    const checker = faceQuality(
      picture(128, 128, (x, y) => (((x >> 1) + (y >> 1)) % 2 ? 200 : 50)),
      box,
      1,
    );
    const ramp = faceQuality(
      picture(128, 128, (x) => 50 + (150 * x) / 127),
      box,
      1,
    );
    expect(checker.sharpness).to.be.greaterThan(0.9);
    expect(ramp.sharpness).to.be.lessThan(0.05);
    expect(checker.brightness).to.be.closeTo(ramp.brightness, 0.05);
  });

  it('when the box is given in reported pixels of a smaller copy, then scale maps it into the copy', () => {
    const img = picture(100, 100, (x) => (x < 50 ? 0 : 255));
    expect(faceQuality(img, { x: 120, y: 0, w: 60, h: 60 }, 0.5).brightness).to.equal(1);
    expect(faceQuality(img, { x: 0, y: 0, w: 60, h: 60 }, 0.5).brightness).to.equal(0);
  });
});

describe('resampling', () => {
  it('when a box is resampled at its own size, then the pixels are unchanged', () => {
    const img = picture(8, 8, (x, y) => x * 10 + y);
    expect(Array.from(sampleRegion(img, { cx: 4, cy: 4, w: 8, h: 8, angle: 0 }, 8, 8).data)).to.deep.equal(
      Array.from(img.data),
    );
  });

  it('when a square is sampled turned by 90°, then the picture appears turned back and points map to it', () => {
    const img = picture(8, 8, (x, y) => x * 10 + y);
    const square = { cx: 4, cy: 4, w: 8, h: 8, angle: 90 };
    const sample = sampleRegion(img, square, 8, 8);
    // Each sample pixel holds the picture pixel that regionToPicture names for its centre.
    for (const [u, v] of [
      [0, 0],
      [5, 2],
      [7, 7],
    ] as const) {
      const [px, py] = regionToPicture(square, 8, 8, u + 0.5, v + 0.5);
      expect(sample.data[(v * 8 + u) * 3]).to.equal(Math.floor(px) * 10 + Math.floor(py));
    }
  });
});
