import { expect } from 'chai';
import { faceUsability, FULL_SIZE_PX, USABILITY_WEIGHTS } from '../../worker/detection/face-usability.js';

const frontal = { yaw: 0, pitch: 0, roll: 0 };
const ideal = { sharpness: 1, brightness: 0.5 };
const at = (side: number) => [0, 0, side, side] as const;

describe('faceUsability', () => {
  it('when a face is large, crisp, mid-grey and frontal, then it reads 1', () => {
    expect(faceUsability({ region: at(FULL_SIZE_PX), pose: frontal, quality: ideal })).to.equal(1);
    expect(faceUsability({ region: at(4 * FULL_SIZE_PX), pose: frontal, quality: ideal })).to.equal(1);
  });

  it('when the weights are summed, then they make 1, so usability stays in 0–1', () => {
    const sum = Object.values(USABILITY_WEIGHTS).reduce((a, b) => a + b, 0);
    expect(sum).to.be.closeTo(1, 1e-12);
  });

  it('when a face is half the full size, then it loses half the size weight', () => {
    const value = faceUsability({ region: at(FULL_SIZE_PX / 2), pose: frontal, quality: ideal });
    expect(value).to.equal(1 - USABILITY_WEIGHTS.size / 2);
  });

  it('when a face turns 45° in yaw, then it loses half the frontal weight, and in profile all of it', () => {
    const turned = faceUsability({ region: at(256), pose: { yaw: 45, pitch: 0, roll: 0 }, quality: ideal });
    expect(turned).to.equal(1 - USABILITY_WEIGHTS.frontal / 2);
    const profile = faceUsability({
      region: at(256),
      pose: { yaw: -30, pitch: 90, roll: 0 },
      quality: ideal,
    });
    expect(profile).to.equal(1 - USABILITY_WEIGHTS.frontal);
  });

  it('when a face is rolled, then usability does not change', () => {
    const rolled = faceUsability({ region: at(256), pose: { yaw: 0, pitch: 0, roll: 120 }, quality: ideal });
    expect(rolled).to.equal(1);
  });

  it('when a face is black, white or a quarter grey, then lighting gives 0, 0 and 3/4 of its weight', () => {
    const lit = (brightness: number) =>
      faceUsability({ region: at(256), pose: frontal, quality: { sharpness: 1, brightness } });
    expect(lit(0)).to.equal(1 - USABILITY_WEIGHTS.lighting);
    expect(lit(1)).to.equal(1 - USABILITY_WEIGHTS.lighting);
    expect(lit(0.25)).to.equal(1 - USABILITY_WEIGHTS.lighting / 4);
  });

  it('when a small blurred turned dark face is compared with a large crisp frontal one, then the latter wins', () => {
    const poor = faceUsability({
      region: at(40),
      pose: { yaw: 50, pitch: 10, roll: 0 },
      quality: { sharpness: 0.2, brightness: 0.1 },
    });
    const good = faceUsability({
      region: at(200),
      pose: { yaw: 5, pitch: -5, roll: 0 },
      quality: { sharpness: 0.9, brightness: 0.45 },
    });
    expect(poor).to.be.within(0, 1);
    expect(good).to.be.greaterThan(poor);
    // 0.3·(200/256) + 0.3·0.9 + 0.25·(1 − √50/90) + 0.15·(1 − (0.05/0.5)²)
    expect(good).to.equal(0.8832);
  });
});
