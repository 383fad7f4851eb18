import { expect } from 'chai';
import type { Box, FaceBox } from '../../worker/detection/face-types.js';
import {
  EDGE_MARGIN,
  facesToInputs,
  MAX_TILES_PER_INPUT,
  planCanvases,
  type CanvasPlan,
  type Placement,
} from '../../worker/inference/canvas-plan.js';

const OPTIONS = { side: 640, gap: 16, tileOverlap: 208 };
const square = (n: number, side: number) => Array.from({ length: n }, () => ({ width: side, height: side }));
const rect = (p: Placement): Box => ({ x: p.dst.x, y: p.dst.y, w: p.src.w, h: p.src.h });

/** Every placement inside the canvas, and no two closer than the gap. */
function expectLaidOut(plans: CanvasPlan[], { side, gap }: typeof OPTIONS) {
  for (const plan of plans)
    for (const [i, a] of plan.entries()) {
      const r = rect(a);
      expect(r.x >= 0 && r.y >= 0 && r.x + r.w <= side && r.y + r.h <= side, JSON.stringify(a)).to.equal(
        true,
      );
      for (const b of plan.slice(i + 1)) {
        const s = rect(b);
        const apart =
          r.x + r.w + gap <= s.x ||
          s.x + s.w + gap <= r.x ||
          r.y + r.h + gap <= s.y ||
          s.y + s.h + gap <= r.y;
        expect(apart, `${JSON.stringify(a)} and ${JSON.stringify(b)}`).to.equal(true);
      }
    }
}

const face = (x: number, y: number, w: number, h: number): FaceBox => ({
  x,
  y,
  w,
  h,
  score: 0.9,
  landmarks: [
    x + 0.3 * w,
    y + 0.4 * h,
    x + 0.7 * w,
    y + 0.4 * h,
    x + 0.5 * w,
    y + 0.6 * h,
    x,
    y,
    x + w,
    y + h,
  ],
});

describe('planCanvases', () => {
  it('when 16 inputs of 96² are planned, then they share one 640² canvas, whole and a gap apart', () => {
    const plans = planCanvases(square(16, 96), OPTIONS);
    expect(plans).to.have.length(1);
    expect(plans[0]!.map((p) => p.input).sort((a, b) => a - b)).to.deep.equal([...Array(16).keys()]);
    expect(
      plans[0]!.every((p) => p.src.w === 96 && p.src.h === 96 && p.src.x === 0 && p.src.y === 0),
    ).to.equal(true);
    expectLaidOut(plans, OPTIONS);
  });

  it('when four 128² inputs and a 400×300 one are planned, then one canvas holds them all', () => {
    const plans = planCanvases([...square(4, 128), { width: 400, height: 300 }], OPTIONS);
    expect(plans).to.have.length(1);
    expect(plans[0]).to.have.length(5);
    expectLaidOut(plans, OPTIONS);
  });

  it('when inputs of mixed sizes are planned, then none is lost and the plan is the same every time', () => {
    const sizes = [
      { width: 640, height: 480 },
      ...square(9, 128),
      { width: 300, height: 620 },
      ...square(20, 96),
      { width: 1000, height: 200 },
    ];
    const plans = planCanvases(sizes, OPTIONS);
    expectLaidOut(plans, OPTIONS);
    const area = plans.flat().reduce((sum, p) => sum + p.src.w * p.src.h, 0);
    expect(area).to.equal(sizes.reduce((sum, s) => sum + s.width * s.height, 0) + 200 * (2 * 640 - 1000));
    expect(plans.length).to.be.at.most(4);
    expect(planCanvases(sizes, OPTIONS)).to.deep.equal(plans);
  });

  it('when a 1920×1080 input is planned, then 4×3 tiles of 640² cover it, evenly spread and overlapping by at least tileOverlap', () => {
    const plans = planCanvases([{ width: 1920, height: 1080 }], OPTIONS);
    const tiles = plans.flat();
    expect(plans).to.have.length(12);
    const xs = [...new Set(tiles.map((t) => t.src.x))];
    const ys = [...new Set(tiles.map((t) => t.src.y))];
    expect(xs).to.deep.equal([0, 427, 853, 1280]);
    expect(ys).to.deep.equal([0, 220, 440]);
    expect(tiles.every((t) => t.src.w === 640 && t.src.h === 640)).to.equal(true);
    for (const t of tiles) {
      const [i, j] = [xs.indexOf(t.src.x), ys.indexOf(t.src.y)];
      expect(t.edges).to.deep.equal({ left: i > 0, top: j > 0, right: i < 3, bottom: j < 2 });
    }
    for (const starts of [xs, ys])
      for (let k = 1; k < starts.length; k++) expect(starts[k - 1]! + 640 - starts[k]!).to.be.at.least(208);
  });

  it('when an input is wider than the side but short, then its tiles keep its height and leave room for others', () => {
    const plans = planCanvases([{ width: 1000, height: 100 }, ...square(3, 96)], OPTIONS);
    expect(plans).to.have.length(1);
    expect(
      plans
        .flat()
        .filter((p) => p.input === 0)
        .map((p) => p.src),
    ).to.deep.equal([
      { x: 0, y: 0, w: 640, h: 100 },
      { x: 360, y: 0, w: 640, h: 100 },
    ]);
    expectLaidOut(plans, OPTIONS);
  });

  it('when an input needs more tiles than allowed, or options cannot tile, then it throws a RangeError', () => {
    const width = 640 + (MAX_TILES_PER_INPUT - 1) * (640 - 208) + 1;
    expect(() => planCanvases([{ width, height: 10 }], OPTIONS)).to.throw(RangeError);
    expect(() => planCanvases([{ width: width - 1, height: 10 }], OPTIONS)).to.not.throw();
    expect(() => planCanvases([{ width: 10, height: 10 }], { ...OPTIONS, tileOverlap: 640 })).to.throw(
      RangeError,
    );
    expect(() => planCanvases([{ width: 0, height: 10 }], OPTIONS)).to.throw(RangeError);
  });
});

describe('facesToInputs', () => {
  it('when faces are found on a shared canvas, then each goes to its input, moved into its pixels, and faces in the gap are dropped', () => {
    const plans = planCanvases([{ width: 100, height: 100 }, ...square(2, 96)], OPTIONS);
    const [a, b] = [plans[0]![0]!, plans[0]![1]!];
    const inB = face(b.dst.x + 10, b.dst.y + 20, 30, 40);
    const inGap = face(a.dst.x + a.src.w + 1, a.dst.y + 40, 12, 12);
    const spilling = face(a.dst.x + 80, a.dst.y + 10, 30, 30);
    const faces = facesToInputs([[inB, inGap, spilling]], plans, 3);
    expect(faces[b.input]).to.deep.equal([face(10, 20, 30, 40)]);
    expect(faces[a.input]).to.deep.equal([{ ...face(80, 10, 30, 30), w: 20 }]);
    expect(faces.flat()).to.have.length(2);
  });

  it('when faces of up to tileOverlap − 2·margin lie anywhere in a tiled input, then each comes back whole at least once, and never cut', () => {
    const size = OPTIONS.tileOverlap - 2 * EDGE_MARGIN;
    const plans = planCanvases([{ width: 1920, height: 1080 }], OPTIONS);
    for (let x = 0; x + size <= 1920; x += 37)
      for (let y = 0; y + size <= 1080; y += 61) {
        // What a model sees of the face on each canvas: the part inside the tile.
        const seen = plans.map((plan) =>
          plan.flatMap((p) => {
            const [x0, y0] = [Math.max(x, p.src.x), Math.max(y, p.src.y)];
            const [x1, y1] = [Math.min(x + size, p.src.x + p.src.w), Math.min(y + size, p.src.y + p.src.h)];
            if (x1 <= x0 || y1 <= y0) return [];
            return [face(x0 - p.src.x + p.dst.x, y0 - p.src.y + p.dst.y, x1 - x0, y1 - y0)];
          }),
        );
        const back = facesToInputs(seen, plans, 1)[0]!;
        expect(back.length, `face at ${x},${y}`).to.be.at.least(1);
        for (const f of back)
          expect([f.x, f.y, f.w, f.h], `face at ${x},${y}`).to.deep.equal([x, y, size, size]);
      }
  });

  it('when the faces do not match the plans, then it throws a RangeError', () => {
    const plans = planCanvases(square(2, 96), OPTIONS);
    expect(() => facesToInputs([[], []], plans, 2)).to.throw(RangeError);
    expect(() => facesToInputs([[face(10, 10, 20, 20)]], plans, 0)).to.throw(RangeError);
  });
});
