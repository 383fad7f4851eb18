import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { BatchFinisher } from '../../shared/batch/batch-finisher.js';
import { failedItem, succeededItem } from '../../shared/batch/batch-items.js';
import type { WebhookJobData } from '../../shared/contract/detect-job.contract.js';
import type { WebhookOutbox } from '../../shared/queue/webhook-outbox.js';
import { deleteKeys, REDIS_URL } from '../support/service.js';

class RecordingOutbox implements Pick<WebhookOutbox, 'enqueue'> {
  readonly queued: WebhookJobData[] = [];

  enqueue(data: WebhookJobData): Promise<void> {
    this.queued.push(data);
    return Promise.resolve();
  }
}

describe('BatchFinisher against Redis', () => {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  let redis: Redis;

  before(() => {
    redis = new Redis(REDIS_URL);
  });
  after(async () => {
    redis.disconnect();
    await deleteKeys(prefix);
  });

  const batch = (total: number) => ({
    id: `b-${randomUUID()}`,
    index: 0,
    total,
    callbackUrl: 'https://hooks.example/b',
  });

  it('when items end in any order, reported twice and at once, then the answer is queued once, in request order, with the first record of each', async () => {
    const outbox = new RecordingOutbox();
    const finisher = new BatchFinisher(redis, prefix, 60, outbox);
    const b = batch(3);
    const ok = succeededItem({}, null);
    await finisher.itemFinal({ ...b, index: 2 }, ok);
    await finisher.itemFinal({ ...b, index: 2 }, failedItem(500, 'a second report of the same end'));
    await Promise.all([
      finisher.itemFinal({ ...b, index: 0 }, failedItem(422, 'not an image')),
      finisher.itemFinal({ ...b, index: 1 }, ok),
      finisher.itemFinal({ ...b, index: 1 }, ok),
    ]);
    await finisher.itemFinal({ ...b, index: 0 }, ok);
    expect(outbox.queued).to.have.length(1);
    expect(outbox.queued[0]!.url).to.equal(b.callbackUrl);
    expect(outbox.queued[0]!.jobId).to.equal(b.id);
    expect(JSON.parse(outbox.queued[0]!.body)).to.deep.equal({
      error_code: 0,
      error_msg: 'SUCCESS',
      job_id: b.id,
      items: [failedItem(422, 'not an image'), ok, ok],
    });
    expect(await redis.ttl(`${prefix}:batch:${b.id}:final`)).to.be.within(1, 60);
  });

  it('when some items have not ended, then nothing is queued', async () => {
    const outbox = new RecordingOutbox();
    const finisher = new BatchFinisher(redis, prefix, 60, outbox);
    const b = batch(2);
    await finisher.itemFinal({ ...b, index: 1 }, succeededItem({}, null));
    expect(outbox.queued).to.deep.equal([]);
  });
});
