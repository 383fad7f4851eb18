import { expect } from 'chai';
import { placeFace, selectFaces, toFrameFaces, landmarksString } from '../../worker/detection/frame-faces.js';
import { confirmWithMirror, unmirror } from '../../worker/detection/flip-refinement.js';
import { TensorBuffers, toYunetTensor } from '../../worker/detection/input-tensor.js';

const face = (x: number, y: number, w: number, h: number, score = 0.9) => ({
  x,
  y,
  w,
  h,
  score,
  landmarks: [
    x + 0.3 * w,
    y + 0.4 * h,
    x + 0.7 * w,
    y + 0.4 * h,
    x + 0.5 * w,
    y + 0.6 * h,
    x + 0.35 * w,
    y + 0.8 * h,
    x + 0.65 * w,
    y + 0.8 * h,
  ],
});

describe('placeFace', () => {
  it('when a face crosses the border, then region and landmarks are integers clamped to the image', () => {
    const placed = placeFace(
      { ...face(-10.4, 5.6, 50, 60), landmarks: [-3, 7.5, 20, 8, 10, 30, 2, 50, 18, 52] },
      100,
      50,
    );
    expect(placed.region).to.deep.equal([0, 6, 40, 44]);
    expect(placed.landmarks).to.deep.equal([
      [0, 8],
      [20, 8],
      [10, 30],
      [10, 49],
      [2, 49],
      [18, 49],
    ]);
  });

  it('when the mouth corners are given, then the mouth centre is their midpoint', () => {
    const placed = placeFace(face(0, 0, 100, 100), 200, 200);
    expect(placed.landmarks[3]).to.deep.equal([50, 80]);
    expect(landmarksString(placed.landmarks)).to.equal('30,40:70,40:50,60:50,80');
  });
});

describe('selectFaces', () => {
  const faces = [
    placeFace(face(0, 0, 10, 10, 0.95), 500, 500),
    placeFace(face(100, 100, 50, 50, 0.7), 500, 500),
    placeFace(face(300, 300, 30, 30, 0.5), 500, 500),
  ];

  it('when faces differ in size, then they are ordered by area, largest first', () => {
    expect(selectFaces(faces, { singleFace: false, minConfidence: 0 }).map((f) => f.region[2])).to.deep.equal(
      [50, 30, 10],
    );
  });

  it('when single_face is set, then only the largest face remains, whatever its score', () => {
    expect(selectFaces(faces, { singleFace: true, minConfidence: 0 }).map((f) => f.score)).to.deep.equal([
      0.7,
    ]);
  });

  it('when min_confidence is set, then lower scores are dropped before choosing the largest', () => {
    expect(selectFaces(faces, { singleFace: true, minConfidence: 0.8 }).map((f) => f.score)).to.deep.equal([
      0.95,
    ]);
  });

  it('when a frame is assembled, then every array follows the same face order', () => {
    const sorted = selectFaces(faces, { singleFace: false, minConfidence: 0 });
    const frame = toFrameFaces(sorted, { faceIds: [7, 8, 9], removed: [3], frameTime: 1.5 });
    expect(frame.region.map((r) => r[2])).to.deep.equal([50, 30, 10]);
    expect(frame.scores).to.deep.equal([0.7, 0.5, 0.95]);
    expect(frame.landmarks_str[0]).to.equal(landmarksString(frame.landmarks[0]!));
    expect(frame).to.include({ frame_time: 1.5, face_urls: null, crop_region: null, crop_landmarks: null });
  });
});

describe('mirror refinement', () => {
  it('when a face is unmirrored, then the box returns to its place and left/right pairs swap back', () => {
    const original = face(10, 20, 40, 40);
    const mirrored = {
      ...original,
      x: 100 - 10 - 40,
      landmarks: [
        100 - original.landmarks[2]!,
        original.landmarks[3]!,
        100 - original.landmarks[0]!,
        original.landmarks[1]!,
        100 - original.landmarks[4]!,
        original.landmarks[5]!,
        100 - original.landmarks[8]!,
        original.landmarks[9]!,
        100 - original.landmarks[6]!,
        original.landmarks[7]!,
      ],
    };
    const back = unmirror(mirrored, 100);
    expect(back.x).to.be.closeTo(10, 1e-9);
    back.landmarks.forEach((v, i) => expect(v).to.be.closeTo(original.landmarks[i]!, 1e-9));
  });

  it('when a mirrored match exists, then landmarks are averaged and the box is kept as decoded', () => {
    const a = face(0, 0, 100, 100);
    const b = { ...face(2, 0, 100, 100), landmarks: a.landmarks.map((v) => v + 2) };
    const [out] = confirmWithMirror([a], [b], { confirmBelow: 64 });
    expect(out!.x).to.equal(0);
    out!.landmarks.forEach((v, i) => expect(v).to.be.closeTo(a.landmarks[i]! + 1, 1e-9));
  });

  it('when no mirrored match exists, then small faces are dropped and large ones kept unchanged', () => {
    const large = face(0, 0, 100, 100);
    const small = face(200, 200, 12, 12);
    expect(confirmWithMirror([large, small], [face(400, 400, 10, 10)], { confirmBelow: 64 })).to.deep.equal([
      large,
    ]);
  });
});

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
    const { tensor } = toYunetTensor({ data, width: 2, height: 1, channels: 3 }, true);
    expect([tensor[0], tensor[1], tensor[2]]).to.deep.equal([60, 30, 0]);
  });

  it('when buffers are reused across sizes and mirroring, then every tensor equals a freshly made one', () => {
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
      for (const mirror of [false, true]) {
        const buffer = buffers.take(img);
        const reused = toYunetTensor(img, mirror, buffer);
        expect(Array.from(reused.tensor), `image ${i}, mirror ${mirror}`).to.deep.equal(
          Array.from(toYunetTensor(img, mirror).tensor),
        );
        buffers.give(img, buffer);
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
