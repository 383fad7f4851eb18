import { UnrecoverableError, Worker } from 'bullmq';
import { WEBHOOK_QUEUE, type WebhookJobData } from '../../shared/contract/detect-job.contract.js';
import { AppError } from '../../shared/errors/app-error.js';
import type { Logger } from '../../shared/logging/logger.js';
import type { RedisSettings } from '../../shared/config/redis-config.js';
import type { RedisOutageLog } from '../../shared/queue/redis-outage-log.js';
import { createRedis, type RedisClient } from '../../shared/queue/redis-connection.js';
import { WebhookOutbox, type WebhookOutboxOptions } from '../../shared/queue/webhook-outbox.js';

export interface WebhookQueueOptions extends WebhookOutboxOptions {
  redis: RedisSettings;
  /** Logs Redis being unreachable once per retry interval instead of once per connection and attempt. */
  outage?: RedisOutageLog;
}

/** BullMQ for callback deliveries: the worker side both queues them and delivers them. */
export class WebhookQueueRepository {
  private readonly outbox: WebhookOutbox;
  private worker?: Worker<WebhookJobData>;
  /** The queue's and the worker's: BullMQ gives each a blocking connection of its own where it needs one. */
  private readonly client: RedisClient;

  constructor(
    private readonly options: WebhookQueueOptions,
    private readonly log: Logger,
  ) {
    this.client = createRedis(options.redis, 'worker', 'facedetect-webhook');
    this.client.on('ready', () => options.outage?.recovered());
    this.outbox = new WebhookOutbox(this.client, options, (err) => {
      if (!options.outage?.report(err)) log.warn({ err }, 'webhook queue error');
    });
  }

  enqueue(data: WebhookJobData): Promise<void> {
    return this.outbox.enqueue(data);
  }

  /** Starts delivering; `deliver` throws to have BullMQ retry, or an AppError that is not retryable to give up. */
  async start(deliver: (data: WebhookJobData) => Promise<void>, concurrency = 4): Promise<void> {
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
        connection: this.client,
        prefix: this.options.prefix,
        concurrency,
      },
    );
    this.worker.on('error', (err) => {
      if (!this.options.outage?.report(err)) this.log.warn({ err }, 'webhook worker error');
    });
    await this.worker.waitUntilReady();
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.outbox.close();
    // BullMQ leaves a connection it was handed open on close.
    this.client.disconnect();
  }
}
