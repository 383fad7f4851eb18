import { Queue } from 'bullmq';
import { WEBHOOK_JOB_NAME, WEBHOOK_QUEUE, type WebhookJobData } from '../contract/detect-job.contract.js';
import type { RedisClient } from './redis-connection.js';

export interface WebhookOutboxOptions {
  /** Starts every key; a hash tag, so that in a Cluster all of them share the slot of the queues. */
  prefix: string;
  /**
   * Deliveries tried per callback, with exponential backoff between them.
   * @defaultValue 6
   */
  attempts?: number;
  /**
   * Delay before the first retry; doubled each time (1, 2, 4, 8, 16 s by default).
   * @defaultValue 1000
   */
  backoffMs?: number;
  /** How long delivery records are kept. */
  retentionS: number;
}

/**
 * Where callback bodies are queued for delivery. Workers queue single jobs' answers; a batch's answer is
 * queued by whoever finishes its last item, which is the gateway when that item was refused there.
 */
export class WebhookOutbox {
  private readonly queue: Queue<WebhookJobData>;

  constructor(connection: RedisClient, options: WebhookOutboxOptions, onError: (err: Error) => void) {
    this.queue = new Queue<WebhookJobData>(WEBHOOK_QUEUE, {
      connection,
      prefix: options.prefix,
      defaultJobOptions: {
        attempts: options.attempts ?? 6,
        backoff: { type: 'exponential', delay: options.backoffMs ?? 1000 },
        removeOnComplete: { age: options.retentionS },
        removeOnFail: { age: options.retentionS },
      },
    });
    this.queue.on('error', onError);
  }

  async enqueue(data: WebhookJobData): Promise<void> {
    // One delivery per job (or batch), even if its end is reported twice.
    await this.queue.add(WEBHOOK_JOB_NAME, data, { jobId: `cb-${data.jobId}` });
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
