import type { BatchItem, BatchSuccess } from '../contract/api-contract.js';
import type { BatchMembership } from '../contract/detect-job.contract.js';
import type { RedisClient } from '../queue/redis-connection.js';
import type { WebhookOutbox } from '../queue/webhook-outbox.js';

/**
 * Records the final answers of a callback batch's items and, with the last one, queues the batch's answer.
 * The first answer recorded for an item stands (HSETNX): a job's end can be reported twice (a stall, a
 * moved job), and an item refused by its own sync wait is also reported by the worker that failed it.
 */
export class BatchFinisher {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlS: number,
    private readonly outbox: Pick<WebhookOutbox, 'enqueue'>,
  ) {}

  async itemFinal(batch: BatchMembership, item: BatchItem): Promise<void> {
    const key = `${this.prefix}:batch:${batch.id}:final`;
    const replies = await this.redis
      .multi()
      .hsetnx(key, String(batch.index), JSON.stringify(item))
      .hlen(key)
      .expire(key, this.ttlS)
      .exec();
    if (!replies) throw new Error('The batch record transaction was aborted');
    const [[addErr], [lenErr, recorded]] = replies as [[Error | null, number], [Error | null, number]];
    const failed = addErr ?? lenErr;
    if (failed) throw failed;
    // Every report that finds all items recorded queues the answer, the delivery's id keeping it to one:
    // the report that recorded the last item may have failed or died before it could queue it.
    if (recorded < batch.total) return;
    const answer: BatchSuccess = {
      error_code: 0,
      error_msg: 'SUCCESS',
      job_id: batch.id,
      items: await this.items(key, batch.total),
    };
    await this.outbox.enqueue({ url: batch.callbackUrl, jobId: batch.id, body: JSON.stringify(answer) });
  }

  private async items(key: string, total: number): Promise<BatchItem[]> {
    const stored = await this.redis.hgetall(key);
    return Array.from({ length: total }, (_, index) => {
      const raw = stored[String(index)];
      if (raw === undefined) throw new Error(`Batch item ${index} has no recorded answer`);
      return JSON.parse(raw) as BatchItem;
    });
  }
}
