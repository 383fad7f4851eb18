import { expect } from 'chai';
import { CROP_KEY_PATTERN, cropKey } from '../../shared/storage/crop-storage.js';
import { mapBounded, reasonOf } from '../../shared/storage/storage-utils.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cropKey', () => {
  it('when given a job, frame and face, then the key groups them under the UTC date and the job id', () => {
    const key = cropKey(new Date('2024-03-05T23:30:00-05:00'), 'job-42', 'f7', 3);
    expect(key).to.equal('crops/2024-03-06/job-42/f7_3.jpg');
    expect(CROP_KEY_PATTERN.test(key)).to.equal(true);
  });

  it('when a job id or frame could escape its folder, then cropKey refuses it', () => {
    for (const bad of ['', '..', '.hidden', 'a/b', 'a\\b', '../x', 'é', 'x'.repeat(129)]) {
      expect(() => cropKey(new Date(), bad, 'f0', 0), bad).to.throw(RangeError);
      expect(() => cropKey(new Date(), 'job', bad, 0), bad).to.throw(RangeError);
    }
  });

  it('when the face index is malformed, then cropKey refuses it', () => {
    expect(() => cropKey(new Date(), 'job', 'f0', -1)).to.throw(RangeError);
    expect(() => cropKey(new Date(), 'job', 'f0', 1.5)).to.throw(RangeError);
  });
});

describe('mapBounded', () => {
  it('when calls finish out of order, then results keep the input order and the bound holds', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapBounded([30, 5, 20, 1, 10, 2], 2, async (ms, i) => {
      most = Math.max(most, ++inFlight);
      await sleep(ms);
      inFlight--;
      return i;
    });
    expect(results).to.deep.equal([0, 1, 2, 3, 4, 5]);
    expect(most).to.equal(2);
  });

  it('when a call fails, then no new call starts and it rejects after the ones in flight settle', async () => {
    const started: number[] = [];
    const settled: number[] = [];
    const err = await mapBounded([0, 1, 2, 3, 4], 2, async (i) => {
      started.push(i);
      await sleep(i === 0 ? 5 : 30);
      settled.push(i);
      if (i === 0) throw new Error('boom');
    }).then(
      () => expect.fail('mapBounded resolved despite a failure'),
      (e: unknown) => e,
    );
    expect((err as Error).message).to.equal('boom');
    expect(started).to.deep.equal([0, 1]);
    expect(settled).to.have.members([0, 1]);
  });

  it('when given no items, then it answers an empty list', async () => {
    expect(await mapBounded([], 4, () => Promise.resolve(1))).to.deep.equal([]);
  });
});

describe('reasonOf', () => {
  it('when a system error names a path, then the reason keeps only its code and call', () => {
    const err = Object.assign(new Error("EACCES: permission denied, open '/srv/data/x'"), {
      code: 'EACCES',
      syscall: 'open',
    });
    expect(reasonOf(err)).to.equal('EACCES on open');
  });

  it('when an error has no message, then its code stands in', () => {
    expect(reasonOf(Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' }))).to.equal(
      'ECONNREFUSED',
    );
  });
});
