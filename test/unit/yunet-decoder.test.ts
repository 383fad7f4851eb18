import { expect } from 'chai';
import { decodeYunet, YUNET_STRIDES } from '../../worker/yunet/yunet-decoder.js';

/** Zeroed outputs for a `w`×`h` input, with one cell of one stride set. */
function outputs(w: number, h: number) {
  const out: Record<string, Float32Array> = {};
  for (const s of YUNET_STRIDES) {
    const cells = (w / s) * (h / s);
    out[`cls_${s}`] = new Float32Array(cells);
    out[`obj_${s}`] = new Float32Array(cells);
    out[`bbox_${s}`] = new Float32Array(cells * 4);
    out[`kps_${s}`] = new Float32Array(cells * 10);
  }
  return out;
}

describe('decodeYunet', () => {
  it('when one cell fires, then box, score and landmarks follow the published rule', () => {
    const out = outputs(64, 32);
    // stride 16: 4 columns x 2 rows; cell i = row*4+col = 1*4+2 = 6.
    const i = 6;
    out.cls_16![i] = 0.81;
    out.obj_16![i] = 1;
    out.bbox_16!.set([0.5, 0.25, Math.log(2), Math.log(3)], i * 4);
    out.kps_16!.set([0.1, 0.2, 0.9, 0.2, 0.5, 0.6, 0.2, 0.9, 0.8, 0.9], i * 10);
    const [face, ...rest] = decodeYunet(out, 64, 32, 0.5);
    expect(rest).to.deep.equal([]);
    expect(face!.score).to.be.closeTo(0.9, 1e-6);
    // centre ((2+0.5)*16, (1+0.25)*16) = (40, 20); size (2*16, 3*16) = (32, 48)
    expect(face!.x).to.be.closeTo(24, 1e-4);
    expect(face!.y).to.be.closeTo(-4, 1e-4);
    expect(face!.w).to.be.closeTo(32, 1e-4);
    expect(face!.h).to.be.closeTo(48, 1e-4);
    const expected = [2.1, 1.2, 2.9, 1.2, 2.5, 1.6, 2.2, 1.9, 2.8, 1.9].map((v) => v * 16);
    face!.landmarks.forEach((v, k) => expect(v).to.be.closeTo(expected[k]!, 1e-4));
  });

  it('when scores are outside 0..1, then they are clamped before the square root', () => {
    const out = outputs(32, 32);
    out.cls_8![0] = 1.7;
    out.obj_8![0] = 1.2;
    out.cls_8![1] = -0.3;
    out.obj_8![1] = 0.9;
    const faces = decodeYunet(out, 32, 32, 0);
    expect(faces.find((f) => f.score === 1)).to.not.equal(undefined);
    expect(faces.filter((f) => f.score > 0)).to.have.length(1);
  });

  it('when a score is below the threshold, then the cell is skipped', () => {
    const out = outputs(32, 32);
    out.cls_32![0] = 0.25;
    out.obj_32![0] = 1;
    expect(decodeYunet(out, 32, 32, 0.6)).to.deep.equal([]);
    expect(decodeYunet(out, 32, 32, 0.5)).to.have.length(1);
  });

  it('when more cells pass than a run may return, then only the best are decoded', () => {
    const out = outputs(256, 256);
    // stride 8: 1024 cells, each scoring a little more than the one before.
    out.cls_8!.forEach((_, i) => (out.cls_8![i] = 0.5 + i / 4096));
    out.obj_8!.fill(1);
    const faces = decodeYunet(out, 256, 256, 0, 100);
    expect(faces).to.have.length(100);
    const best = Math.sqrt(0.5 + 1023 / 4096);
    expect(Math.max(...faces.map((f) => f.score))).to.be.closeTo(best, 1e-6);
    expect(Math.min(...faces.map((f) => f.score))).to.be.closeTo(Math.sqrt(0.5 + 924 / 4096), 1e-6);
  });

  it('when an output does not match the input size, then decoding refuses', () => {
    expect(() => decodeYunet(outputs(64, 64), 32, 32, 0.5)).to.throw(/expected/);
  });
});
