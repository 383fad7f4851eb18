import { expect } from 'chai';
import { ModelError } from '../../shared/errors/errors.js';
import {
  checkScrfdOutputs,
  decodeScrfd,
  SCRFD_STRIDES,
  type ScrfdTensor,
} from '../../worker/scrfd/scrfd-decoder.js';

const WIDTHS = [1, 4, 10];

/** Zeroed outputs for a `w`×`h` input in session order (scores 8/16/32, boxes 8/16/32, keypoints 8/16/32). */
function outputs(w: number, h: number, batched = true): ScrfdTensor[] {
  return WIDTHS.flatMap((k) =>
    SCRFD_STRIDES.map((s) => {
      const n = (w / s) * (h / s) * 2;
      return { data: new Float32Array(n * k), dims: batched ? [1, n, k] : [n, k] };
    }),
  );
}

/** Sets anchor `a` of stride index `si`: score, 4 box distances, 10 keypoint distances. */
function fire(out: ScrfdTensor[], si: number, a: number, score: number, box: number[], kps: number[]) {
  out[si]!.data[a] = score;
  out[3 + si]!.data.set(box, a * 4);
  out[6 + si]!.data.set(kps, a * 10);
}

const KPS = [-1, -0.5, 1, -0.5, 0, 0, -0.75, 0.5, 0.75, 0.5];

describe('decodeScrfd', () => {
  it('when one anchor fires, then box and landmarks are the anchor centre ∓ distance × stride', () => {
    const out = outputs(64, 32);
    // stride 16: 4 columns × 2 rows, 2 anchors per cell; anchor 13 is cell 6 (second anchor) = row 1, col 2.
    fire(out, 1, 13, 0.9, [1, 0.5, 2, 1.5], KPS);
    const [face, ...rest] = decodeScrfd(out, 64, 32, 0.5);
    expect(rest).to.deep.equal([]);
    expect(face!.score).to.be.closeTo(0.9, 1e-6);
    // centre (2*16, 1*16) = (32, 16); x1 = 32-1*16 = 16, y1 = 16-0.5*16 = 8, x2 = 32+2*16 = 64, y2 = 16+1.5*16 = 40
    expect(face!.x).to.be.closeTo(16, 1e-4);
    expect(face!.y).to.be.closeTo(8, 1e-4);
    expect(face!.w).to.be.closeTo(64 - 16, 1e-4);
    expect(face!.h).to.be.closeTo(40 - 8, 1e-4);
    // landmark n = (32 + k2n*16, 16 + k2n+1*16)
    const expected = [16, 8, 48, 8, 32, 16, 20, 24, 44, 24];
    face!.landmarks.forEach((v, k) => expect(v).to.be.closeTo(expected[k]!, 1e-4));
  });

  it('when anchors fire at strides 8 and 32, then each uses its own grid and stride', () => {
    const out = outputs(64, 64);
    // stride 8: 8 columns; anchor 2*(3*8+5) = 58 is row 3, col 5 → centre (40, 24)
    fire(out, 0, 58, 0.7, [1, 1, 1, 1], new Array<number>(10).fill(0));
    // stride 32: 2 columns; anchor 2*(1*2+0)+1 = 5 is row 1, col 0 → centre (0, 32)
    fire(out, 2, 5, 0.8, [0, 0.25, 0.5, 0.75], new Array<number>(10).fill(0.5));
    const faces = decodeScrfd(out, 64, 64, 0.5);
    expect(faces.map((f) => [f.x, f.y, f.w, f.h, f.landmarks[0], f.landmarks[1]])).to.deep.equal([
      // 40-8, 24-8, 8+8, 8+8; landmarks at the centre
      [32, 16, 16, 16, 40, 24],
      // 0-0, 32-0.25*32 = 24, (0.5+0)*32 = 16, (0.75+0.25)*32 = 32; landmark 0+0.5*32, 32+0.5*32
      [0, 24, 16, 32, 16, 48],
    ]);
    expect(faces.map((f) => f.score)).to.deep.equal([Math.fround(0.7), Math.fround(0.8)]);
  });

  it('when the outputs are unbatched [N, k], then the faces equal those of the batched [1, N, k] layout', () => {
    const batched = outputs(96, 64);
    const unbatched = outputs(96, 64, false);
    for (const out of [batched, unbatched]) {
      fire(out, 0, 77, 0.95, [2, 3, 4, 5], KPS);
      fire(out, 2, 3, 0.6, [0.1, 0.2, 0.3, 0.4], KPS);
    }
    const faces = decodeScrfd(batched, 96, 64, 0.5);
    expect(faces).to.have.length(2);
    expect(decodeScrfd(unbatched, 96, 64, 0.5)).to.deep.equal(faces);
  });

  it('when a score is below the threshold, then its anchor is dropped; at the threshold, it is kept', () => {
    const out = outputs(32, 32);
    fire(out, 0, 0, 0.49, [1, 1, 1, 1], KPS);
    fire(out, 0, 1, 0.5, [1, 1, 1, 1], KPS);
    const faces = decodeScrfd(out, 32, 32, 0.5);
    expect(faces.map((f) => f.score)).to.deep.equal([0.5]);
  });

  it('when more anchors pass than the cap, then only the best ones are kept', () => {
    const out = outputs(64, 64);
    // 5 anchors at stride 8 with scores 0.6, 0.65, … 0.8; a cap of 3 keeps 0.7, 0.75, 0.8
    for (let a = 0; a < 5; a++) fire(out, 0, a, 0.6 + a * 0.05, [1, 1, 1, 1], KPS);
    const faces = decodeScrfd(out, 64, 64, 0.5, 3);
    expect(faces.map((f) => f.score)).to.deep.equal([0.7, 0.75, 0.8].map(Math.fround));
  });

  it('when the output count is not 9, then it throws', () => {
    const out = outputs(32, 32).slice(0, 6);
    expect(() => decodeScrfd(out, 32, 32, 0.5)).to.throw(/expected 9 outputs, got 6/);
  });

  it('when a tensor holds a different anchor count than the input size gives, then it throws', () => {
    const out = outputs(64, 32);
    expect(() => decodeScrfd(out, 64, 64, 0.5)).to.throw(
      /scores for stride 8: expected \[128, 1\] or \[1, 128, 1\] for 64x64, got \[1, 64, 1\]/,
    );
  });

  it('when a tensor has the wrong per-anchor width, then it throws', () => {
    const out = outputs(32, 32);
    out[6] = { data: new Float32Array(32 * 5), dims: [1, 32, 5] };
    expect(() => decodeScrfd(out, 32, 32, 0.5)).to.throw(/keypoint distances for stride 8/);
  });

  it('when the input size is not a multiple of 32, then it throws', () => {
    expect(() => decodeScrfd(outputs(32, 32), 40, 32, 0.5)).to.throw(/not a positive multiple of 32/);
  });
});

describe('checkScrfdOutputs', () => {
  const batched = WIDTHS.flatMap((k, g) =>
    SCRFD_STRIDES.map((s) => ({ name: `out${g * 3 + s}`, shape: [1, 100, k] })),
  );

  it('when the outputs are a batched or dynamic unbatched SCRFD, then it accepts them', () => {
    expect(() => checkScrfdOutputs(batched, 'm.onnx')).not.to.throw();
    const dynamic = batched.map((o) => ({ name: o.name, shape: ['n', o.shape[2]!] }));
    expect(() => checkScrfdOutputs(dynamic, 'm.onnx')).not.to.throw();
  });

  it('when the model has YuNet-like outputs, then it refuses with a ModelError naming the file', () => {
    const yunet = ['cls_8', 'obj_8', 'bbox_8', 'kps_8'].map((name) => ({ name, shape: [1, 6400, 1] }));
    expect(() => checkScrfdOutputs(yunet, 'yunet.onnx'))
      .to.throw(ModelError)
      .with.property(
        'message',
        'Model file yunet.onnx is not a keypoint SCRFD detector: it has 4 outputs, expected 9.',
      );
  });

  it('when an output has the wrong width, then it refuses naming that output', () => {
    const wrong = batched.map((o, i) => (i === 4 ? { name: o.name, shape: [1, 100, 2] } : o));
    expect(() => checkScrfdOutputs(wrong, 'm.onnx')).to.throw(
      ModelError,
      /output 4 \(out.*\) has shape \[1, 100, 2\]/,
    );
  });
});
