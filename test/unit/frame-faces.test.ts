import { expect } from 'chai';
import { placeFace, selectFaces, toFrameFaces, landmarksString } from '../../worker/detection/frame-faces.js';
import { confirmWithMirror } from '../../worker/detection/flip-refinement.js';
import { faceToPicture } from '../../worker/detection/view-transform.js';

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

  it('when min_face_size and max_faces are set, then small faces go and at most that many largest stay', () => {
    expect(
      selectFaces(faces, { singleFace: false, minConfidence: 0, minFaceSize: 30 }).map((f) => f.region[2]),
    ).to.deep.equal([50, 30]);
    expect(
      selectFaces(faces, { singleFace: false, minConfidence: 0, maxFaces: 2 }).map((f) => f.region[2]),
    ).to.deep.equal([50, 30]);
    expect(
      selectFaces(faces, { singleFace: false, minConfidence: 0, minFaceSize: 31, maxFaces: 2 }),
    ).to.have.length(1);
  });

  it('when a frame is assembled, then every array follows the same face order', () => {
    const sorted = selectFaces(faces, { singleFace: false, minConfidence: 0 });
    const pose = [0, 1, 2].map((roll) => ({ yaw: 0, pitch: 0, roll }));
    const quality = [0, 1, 2].map((n) => ({ sharpness: n / 2, brightness: 0.5 }));
    const frame = toFrameFaces(sorted, {
      faceIds: [7, 8, 9],
      removed: [3],
      frameTime: 1.5,
      pose,
      quality,
      rotation: 0,
    });
    expect(frame.region.map((r) => r[2])).to.deep.equal([50, 30, 10]);
    expect(frame.scores).to.deep.equal([0.7, 0.5, 0.95]);
    expect(frame.landmarks_str[0]).to.equal(landmarksString(frame.landmarks[0]!));
    expect(frame).to.include({ frame_time: 1.5, face_urls: null, crop_region: null, crop_landmarks: null });
    expect(frame.pose).to.equal(pose);
    expect(frame.quality).to.equal(quality);
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
    const back = faceToPicture(mirrored, { turn: 0, mirror: true }, 100, 100);
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
