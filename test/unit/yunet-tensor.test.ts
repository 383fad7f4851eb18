import { expect } from 'chai';
import { QUARTER_TURNS, viewSize } from '../../worker/detection/view-transform.js';
import { TensorBuffers, toYunetTensor } from '../../worker/yunet/yunet-tensor.js';

describe('toYunetTensor', () => {
  it('when an RGB image is converted, then the tensor is planar BGR padded to multiples of 32', () => {
    const data = new Uint8Array([10, 20, 30, 40, 50, 60]);
    const { tensor, width, height } = toYunetTensor({ data, width: 2, height: 1, channels: 3 });
    expect([width, height]).to.deep.equal([32, 32]);
    const plane = 32 * 32;
    expect([tensor[0], tensor[1], tensor[2]]).to.deep.equal([30, 60, 0]);
    expect([tensor[plane], tensor[plane + 1]]).to.deep.equal([20, 50]);
    expect([tensor[2 * plane], tensor[2 * plane + 1]]).to.deep.equal([10, 40]);
  });

  it('when mirrored, then columns are reversed within the image, not the padded canvas', () => {
    const data = new Uint8Array([10, 20, 30, 40, 50, 60]);
    const { tensor } = toYunetTensor({ data, width: 2, height: 1, channels: 3 }, { turn: 0, mirror: true });
    expect([tensor[0], tensor[1], tensor[2]]).to.deep.equal([60, 30, 0]);
  });

  it('when buffers are reused across sizes, turns and mirroring, then every tensor equals a freshly made one', () => {
    const image = (width: number, height: number, seed: number) => ({
      data: Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 7 + seed) % 251),
      width,
      height,
      channels: 3,
    });
    const buffers = new TensorBuffers();
    const sequence = [
      image(40, 20, 1),
      image(20, 40, 2),
      image(40, 20, 3),
      image(40, 20, 4),
      image(33, 1, 5),
    ];
    for (const [i, img] of sequence.entries()) {
      for (const view of QUARTER_TURNS.flatMap((turn) => [false, true].map((mirror) => ({ turn, mirror })))) {
        const seen = viewSize(view.turn, img.width, img.height);
        const buffer = buffers.take(seen);
        const reused = toYunetTensor(img, view, buffer);
        expect(Array.from(reused.tensor), `image ${i}, ${JSON.stringify(view)}`).to.deep.equal(
          Array.from(toYunetTensor(img, view).tensor),
        );
        buffers.give(seen, buffer);
      }
    }
  });

  it('when kept buffers exceed the byte limit, then the least recently used are let go', () => {
    const buffers = new TensorBuffers(2 * 3 * 32 * 32 * 4);
    const [a, b, c] = [1, 2, 3].map((w) => ({ width: w, height: 1 }));
    const arrays = [a!, b!, c!].map((img) => buffers.take(img));
    [a!, b!, c!].forEach((img, i) => buffers.give(img, arrays[i]!));
    expect(buffers.take(a!)).to.not.equal(arrays[0]);
    expect(buffers.take(c!)).to.equal(arrays[2]);
  });
});
