import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { BatchFinisher } from '../../shared/batch/batch-finisher.js';
import { failedItem, succeededItem } from '../../shared/batch/batch-items.js';
import type { WebhookJobData } from '../../shared/contract/detect-job.contract.js';
import type { WebhookOutbox } from '../../shared/queue/webhook-outbox.js';
import { deleteKeys, REDIS_URL } from '../support/service.js';

/** Keeps one delivery per id, as BullMQ does for the outbox's `cb-<id>` job ids; can fail its first call. */
class RecordingOutbox implements Pick<WebhookOutbox, 'enqueue'> {
  readonly byId = new Map<string, WebhookJobData>();
  calls = 0;

  constructor(private failFirst = false) {}

  get queued(): WebhookJobData[] {
    return [...this.byId.values()];
  }

  enqueue(data: WebhookJobData): Promise<void> {
    this.calls++;
    if (this.failFirst) {
      this.failFirst = false;
      return Promise.reject(new Error('Redis went away'));
    }
    const seen = this.byId.get(data.jobId);
    if (seen && seen.body !== data.body) throw new Error('a second, different answer for one batch');
    this.byId.set(data.jobId, data);
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

  it('when items end in any order, reported twice and at once, then one answer is queued, in request order, with the first record of each', async () => {
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

  it('when the report that completed the batch could not queue its answer, then the next report of an item queues it', async () => {
    const outbox = new RecordingOutbox(true);
    const finisher = new BatchFinisher(redis, prefix, 60, outbox);
    const b = batch(1);
    const ok = succeededItem({}, null);
    let failed: unknown;
    await finisher.itemFinal(b, ok).catch((err: unknown) => (failed = err));
    expect(failed).to.be.instanceOf(Error);
    expect(outbox.queued).to.deep.equal([]);
    await finisher.itemFinal(b, ok);
    expect(outbox.queued.map((q) => q.jobId)).to.deep.equal([b.id]);
  });

  it('when some items have not ended, then nothing is queued', async () => {
    const outbox = new RecordingOutbox();
    const finisher = new BatchFinisher(redis, prefix, 60, outbox);
    const b = batch(2);
    await finisher.itemFinal({ ...b, index: 1 }, succeededItem({}, null));
    expect(outbox.queued).to.deep.equal([]);
  });
});
