import { expect } from 'chai';
import { estimatePose, GENERIC_FACE } from '../../worker/detection/head-pose.js';

const rad = (d: number) => (d * Math.PI) / 180;

/** The generic face posed by R = Rroll · Rpitch · Ryaw, projected orthographically, scaled and moved. */
function project(yaw: number, pitch: number, roll: number, scale = 80, at: [number, number] = [300, 200]) {
  return GENERIC_FACE.map(([x, y, z]) => {
    const [cy, sy, cp, sp, cr, sr] = [yaw, yaw, pitch, pitch, roll, roll].map((a, i) =>
      i % 2 === 0 ? Math.cos(rad(a)) : Math.sin(rad(a)),
    ) as [number, number, number, number, number, number];
    const x1 = x * cy - z * sy;
    const z1 = x * sy + z * cy;
    const y2 = y * cp + z1 * sp;
    const x3 = x1 * cr - y2 * sr;
    const y3 = x1 * sr + y2 * cr;
    return [at[0] + scale * x3, at[1] + scale * y3] as [number, number];
  });
}

describe('estimatePose', () => {
  it('when landmarks are the generic face at known angles, then yaw, pitch and roll come back within 0.2°', () => {
    for (const [yaw, pitch, roll] of [
      [0, 0, 0],
      [30, 0, 0],
      [-45, 0, 0],
      [0, 20, 0],
      [0, -25, 0],
      [0, 0, 35],
      [20, -10, 15],
      [-30, 15, -60],
      [10, 5, 175],
    ] as const) {
      const pose = estimatePose(project(yaw, pitch, roll));
      expect(pose.yaw, `yaw of ${[yaw, pitch, roll].join()}`).to.be.closeTo(yaw, 0.2);
      expect(pose.pitch, `pitch of ${[yaw, pitch, roll].join()}`).to.be.closeTo(pitch, 0.2);
      expect(pose.roll, `roll of ${[yaw, pitch, roll].join()}`).to.be.closeTo(roll, 0.2);
    }
  });

  it('when the face turns toward image-right and tilts up, then yaw and pitch are positive', () => {
    const points = project(0, 0, 0);
    const turned = points.map(([x, y], i) =>
      i === 2 ? ([x + 15, y - 10] as [number, number]) : ([x, y] as [number, number]),
    );
    const pose = estimatePose(turned);
    expect(pose.yaw).to.be.greaterThan(5);
    expect(pose.pitch).to.be.greaterThan(5);
  });

  it('when a face is upside down, then roll is ±180', () => {
    expect(Math.abs(estimatePose(project(0, 0, 180)).roll)).to.be.closeTo(180, 0.2);
  });

  it('when the landmarks are mirrored left to right, then yaw and roll change sign and pitch stays', () => {
    const points = project(25, 10, 12);
    const mirrored = [points[1]!, points[0]!, points[2]!, points[4]!, points[3]!].map(
      ([x, y]) => [1000 - x, y] as [number, number],
    );
    const a = estimatePose(points);
    const b = estimatePose(mirrored);
    expect(b.yaw).to.be.closeTo(-a.yaw, 0.2);
    expect(b.roll).to.be.closeTo(-a.roll, 0.2);
    expect(b.pitch).to.be.closeTo(a.pitch, 0.2);
  });

  /** Landmarks as a real face gives them: not the generic face, and not quite a rigid view of one. */
  const realFaces: [number, number][][] = [
    [
      [231, 260],
      [318, 251],
      [296, 318],
      [245, 362],
      [309, 357],
    ],
    [
      [402, 188],
      [455, 199],
      [452, 230],
      [401, 260],
      [441, 267],
    ],
    [
      [120, 140],
      [168, 131],
      [133, 178],
      [129, 206],
      [170, 199],
    ],
  ];

  it('when real landmarks are turned by θ within the picture, then θ is added to roll and yaw and pitch stay', () => {
    for (const [i, points] of realFaces.entries()) {
      const a = estimatePose(points);
      for (const theta of [-35, -20, 7, 20, 90]) {
        const [c, s] = [Math.cos(rad(theta)), Math.sin(rad(theta))];
        const turned = points.map(([x, y]) => [500 + c * x - s * y, 300 + s * x + c * y] as [number, number]);
        const b = estimatePose(turned);
        const added = ((((b.roll - a.roll) % 360) + 540) % 360) - 180;
        expect(added, `face ${i} turned ${theta}°`).to.be.closeTo(theta, 0.11);
        expect(b.yaw, `face ${i} turned ${theta}°`).to.be.closeTo(a.yaw, 0.11);
        expect(b.pitch, `face ${i} turned ${theta}°`).to.be.closeTo(a.pitch, 0.11);
      }
    }
  });

  it('when real landmarks are mirrored, then yaw and roll are negated exactly', () => {
    for (const [i, points] of realFaces.entries()) {
      const mirrored = [points[1]!, points[0]!, points[2]!, points[4]!, points[3]!].map(
        ([x, y]) => [640 - x, y] as [number, number],
      );
      const [a, b] = [estimatePose(points), estimatePose(mirrored)];
      expect([b.yaw, b.pitch, b.roll], `face ${i}`).to.deep.equal([-a.yaw || 0, a.pitch, -a.roll || 0]);
    }
  });

  it('when the points are degenerate, then the pose is still finite', () => {
    const pose = estimatePose([
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
    expect([pose.yaw, pose.pitch, pose.roll].every(Number.isFinite)).to.equal(true);
  });
});
