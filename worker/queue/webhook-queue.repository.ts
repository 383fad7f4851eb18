import { Queue, UnrecoverableError, Worker } from 'bullmq';
import {
  WEBHOOK_JOB_NAME,
  WEBHOOK_QUEUE,
  type WebhookJobData,
} from '../../shared/contract/detect-job.contract.js';
import { AppError } from '../../shared/errors/app-error.js';
import type { Logger } from '../../shared/logging/logger.js';
import { redisOptions } from '../../shared/queue/redis-connection.js';

export interface WebhookQueueOptions {
  redisUrl: string;
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

/** BullMQ for callback deliveries: the worker side both queues them and delivers them. */
export class WebhookQueueRepository {
  private readonly queue: Queue<WebhookJobData>;
  private worker?: Worker<WebhookJobData>;

  constructor(
    private readonly options: WebhookQueueOptions,
    private readonly log: Logger,
  ) {
    const connection = redisOptions(options.redisUrl, 'worker', 'facedetect-webhook-producer');
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
    this.queue.on('error', (err) => log.warn({ err }, 'webhook queue error'));
  }

  async enqueue(data: WebhookJobData): Promise<void> {
    // One delivery per detection job, even if its end is reported twice.
    await this.queue.add(WEBHOOK_JOB_NAME, data, { jobId: `cb-${data.jobId}` });
  }

  /** Starts delivering; `deliver` throws to have BullMQ retry, or an AppError that is not retryable to give up. */
  async start(deliver: (data: WebhookJobData) => Promise<void>, concurrency = 4): Promise<void> {
    const connection = redisOptions(this.options.redisUrl, 'worker', 'facedetect-webhook-worker');
    this.worker = new Worker<WebhookJobData>(
      WEBHOOK_QUEUE,
      async (job) => {
        try {
          await deliver(job.data);
        } catch (err) {
          const final = err instanceof AppError && !err.retryable;
          this.log.warn(
            { jobId: job.data.jobId, attempt: job.attemptsMade + 1, reason: (err as Error).message },
            'callback delivery failed',
          );
          throw final ? new UnrecoverableError((err as Error).message) : err;
        }
      },
      {
        connection,
        prefix: this.options.prefix,
        concurrency,
      },
    );
    this.worker.on('error', (err) => this.log.warn({ err }, 'webhook worker error'));
    await this.worker.waitUntilReady();
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
