import { expect } from 'chai';
import type { Box, RawImage } from '../../worker/detection/face-types.js';
import { QUARTER_TURNS, viewSize, type View } from '../../worker/detection/view-transform.js';
import { fillCanvas, writeView, type TensorLayout } from '../../worker/inference/tensor-writer.js';

const VIEWS: View[] = QUARTER_TURNS.flatMap((turn) => [false, true].map((mirror) => ({ turn, mirror })));

/** A 5×3 picture whose every channel value is distinct. */
function picture(channels = 3): RawImage {
  const [width, height] = [5, 3];
  const data = Uint8Array.from({ length: width * height * channels }, (_, i) => (i * 37 + 11) % 256);
  return { data, width, height, channels };
}

/** The picture pixel seen at view pixel (c, r), by undoing the mirror and then the clockwise turn. */
function seenAt(img: RawImage, view: View, c: number, r: number): number[] {
  const { width: W, height: H } = img;
  const x = view.mirror ? viewSize(view.turn, W, H).width - 1 - c : c;
  const [px, py] = { 0: [x, r], 90: [r, H - 1 - x], 180: [W - 1 - x, H - 1 - r], 270: [W - 1 - r, x] }[
    view.turn
  ] as [number, number];
  const at = (py * W + px) * img.channels;
  return [img.data[at]!, img.data[at + 1]!, img.data[at + 2]!];
}

/** What the canvas must hold: `src` of the view at `dst` in the layout's values, padding elsewhere. */
function expected(
  img: RawImage,
  view: View,
  src: Box,
  cw: number,
  ch: number,
  dst: Box,
  layout: TensorLayout,
) {
  const value = (v: number) => Math.fround((v - layout.mean) / layout.std);
  const planes = [0, 1, 2].map(() => new Array<number>(cw * ch).fill(value(0)));
  for (let r = 0; r < src.h; r++)
    for (let c = 0; c < src.w; c++) {
      const rgb = seenAt(img, view, src.x + c, src.y + r);
      const ordered = layout.channelOrder === 'rgb' ? rgb : [...rgb].reverse();
      for (let k = 0; k < 3; k++) planes[k]![(dst.y + r) * cw + dst.x + c] = value(ordered[k]!);
    }
  return planes.flat();
}

function written(
  img: RawImage,
  view: View,
  src: Box,
  cw: number,
  ch: number,
  dst: Box,
  layout: TensorLayout,
) {
  const out = new Float32Array(3 * cw * ch);
  fillCanvas(out, layout);
  writeView(img, view, src, out, cw, ch, dst, layout);
  return Array.from(out);
}

const BGR_RAW: TensorLayout = { channelOrder: 'bgr', mean: 0, std: 1 };
const RGB_SCALED: TensorLayout = { channelOrder: 'rgb', mean: 127.5, std: 128 };

describe('writeView', () => {
  for (const layout of [BGR_RAW, RGB_SCALED])
    it(`when a whole picture is written at an offset in ${layout.channelOrder} with mean ${layout.mean}, then every turn and mirror lands as the view shows it, padding elsewhere`, () => {
      const img = picture();
      for (const view of VIEWS) {
        const seen = viewSize(view.turn, img.width, img.height);
        const src = { x: 0, y: 0, w: seen.width, h: seen.height };
        const dst = { x: 2, y: 1, w: 0, h: 0 };
        expect(written(img, view, src, 9, 8, dst, layout), JSON.stringify(view)).to.deep.equal(
          expected(img, view, src, 9, 8, dst, layout),
        );
      }
    });

  it('when a sub-rectangle of a turned view is written, then only its pixels are, from the right place', () => {
    const img = picture();
    for (const view of VIEWS) {
      const seen = viewSize(view.turn, img.width, img.height);
      for (const src of [
        { x: 1, y: 1, w: 2, h: seen.height - 2 },
        { x: seen.width - 1, y: 0, w: 1, h: 2 },
        { x: 0, y: seen.height - 1, w: seen.width, h: 1 },
      ]) {
        const dst = { x: 3, y: 2, w: 0, h: 0 };
        expect(written(img, view, src, 9, 8, dst, RGB_SCALED), JSON.stringify({ view, src })).to.deep.equal(
          expected(img, view, src, 9, 8, dst, RGB_SCALED),
        );
      }
    }
  });

  it('when the picture has an alpha channel, then alpha is skipped', () => {
    const img = picture(4);
    const view: View = { turn: 90, mirror: true };
    const src = { x: 0, y: 0, w: 3, h: 5 };
    const dst = { x: 0, y: 0, w: 0, h: 0 };
    expect(written(img, view, src, 3, 5, dst, BGR_RAW)).to.deep.equal(
      expected(img, view, src, 3, 5, dst, BGR_RAW),
    );
  });

  it('when the source leaves the view or the destination leaves the canvas, then it throws before writing', () => {
    const img = picture();
    const out = new Float32Array(3 * 8 * 8).fill(7);
    const at = { x: 0, y: 0 };
    const turned: View = { turn: 270, mirror: false };
    expect(() => writeView(img, turned, { x: 0, y: 0, w: 5, h: 3 }, out, 8, 8, at, BGR_RAW)).to.throw(
      RangeError,
    );
    expect(() =>
      writeView(img, turned, { x: 0, y: 0, w: 3, h: 5 }, out, 8, 8, { x: 6, y: 0 }, BGR_RAW),
    ).to.throw(RangeError);
    expect(() => writeView(img, turned, { x: 0, y: 0, w: 3, h: 5 }, out, 8, 7, at, BGR_RAW)).to.throw(
      RangeError,
    );
    expect(out.every((v) => v === 7)).to.equal(true);
  });
});

describe('fillCanvas', () => {
  it('when a canvas is filled, then it holds what a black pixel becomes in the layout', () => {
    const out = new Float32Array(12);
    fillCanvas(out, RGB_SCALED);
    expect(Array.from(new Set(out))).to.deep.equal([Math.fround(-127.5 / 128)]);
  });
});
