import { createHmac } from 'node:crypto';
import { absolutizeLinks } from '../../shared/contract/absolute-face-urls.js';
import type { DetectSuccess, ErrorAnswer } from '../../shared/contract/api-contract.js';
import type { DetectJobResult, WebhookJobData } from '../../shared/contract/detect-job.contract.js';
import type { DetectJob } from '../queue/detect-worker.repository.js';
import type { AppError } from '../../shared/errors/app-error.js';
import { CallbackRejectedError } from '../../shared/errors/errors.js';
import type { WebhookPoster } from '../fetch/webhook-poster.js';
import type { WebhookQueueRepository } from '../queue/webhook-queue.repository.js';
import type { BatchFinisher } from '../../shared/batch/batch-finisher.js';
import { failedItem, succeededItem } from '../../shared/batch/batch-items.js';

type FinalAnswer = DetectSuccess | (ErrorAnswer & { job_id: string });

/** `X-Signature: sha256=<hex HMAC-SHA256 of the exact body>`, so receivers can verify the sender. */
function signature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * `callback_url`: when a job ends (done, or failed for good), its final answer is queued for delivery and
 * POSTed through the same SSRF guard as media URLs, retried with backoff until the receiver answers 2xx.
 * An item of a batch with a callback records its answer under the batch instead, and the last item's
 * record queues the batch's answer.
 */
export class WebhookService {
  constructor(
    private readonly queue: Pick<WebhookQueueRepository, 'enqueue'>,
    private readonly poster: Pick<WebhookPoster, 'postJson'>,
    private readonly secret: string | undefined,
    private readonly batches: Pick<BatchFinisher, 'itemFinal'>,
  ) {}

  /** Queues the final answer of a job that asked for a callback, or records it under its batch. */
  onJobFinal = async (
    job: DetectJob,
    outcome: { result: DetectJobResult } | { error: AppError },
  ): Promise<void> => {
    const { batch, callbackUrl: url, publicBase } = job.data;
    if ('error' in outcome) {
      const { httpStatus, message } = outcome.error;
      if (batch) await this.batches.itemFinal(batch, failedItem(httpStatus, message));
      if (url)
        await this.send(url, job.id, { error_code: 1, error_msg: message, job_id: job.id, faces_obj: {} });
      return;
    }
    const linked = withLinks(outcome.result, publicBase);
    if (batch) await this.batches.itemFinal(batch, succeededItem(linked.faces_obj, linked.tracks));
    if (url) await this.send(url, job.id, { error_code: 0, error_msg: 'SUCCESS', job_id: job.id, ...linked });
  };

  private async send(url: string, jobId: string, answer: FinalAnswer): Promise<void> {
    await this.queue.enqueue({ url, jobId, body: JSON.stringify(answer) });
  }

  deliver = async ({ url, body }: WebhookJobData): Promise<void> => {
    const headers: Record<string, string> = { 'user-agent': 'facedetect-webhook' };
    if (this.secret) headers['x-signature'] = signature(body, this.secret);
    const { status } = await this.poster.postJson(url, body, headers);
    if (status < 200 || status >= 300) {
      throw new CallbackRejectedError(status);
    }
  };
}

/** The links a poll of the job answers: complete, as the gateway completes them. */
function withLinks(result: DetectJobResult, publicBase: string | undefined) {
  return publicBase
    ? absolutizeLinks(result, publicBase)
    : { faces_obj: result.faces_obj, tracks: result.tracks ?? null };
}
