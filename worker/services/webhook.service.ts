import { createHmac } from 'node:crypto';
import { absolutizeFaceUrls, absolutizeTrackUrls } from '../../shared/contract/absolute-face-urls.js';
import type { DetectSuccess, ErrorAnswer } from '../../shared/contract/api-contract.js';
import type { DetectJobResult, WebhookJobData } from '../../shared/contract/detect-job.contract.js';
import type { DetectJob } from '../queue/detect-worker.repository.js';
import type { AppError } from '../../shared/errors/app-error.js';
import { CallbackRejectedError } from '../../shared/errors/errors.js';
import type { WebhookPoster } from '../fetch/webhook-poster.js';
import type { WebhookQueueRepository } from '../queue/webhook-queue.repository.js';

type FinalAnswer = DetectSuccess | (ErrorAnswer & { job_id: string });

/** `X-Signature: sha256=<hex HMAC-SHA256 of the exact body>`, so receivers can verify the sender. */
function signature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * `callback_url`: when a job ends (done, or failed for good), its final answer is queued for delivery and
 * POSTed through the same SSRF guard as media URLs, retried with backoff until the receiver answers 2xx.
 */
export class WebhookService {
  constructor(
    private readonly queue: Pick<WebhookQueueRepository, 'enqueue'>,
    private readonly poster: Pick<WebhookPoster, 'postJson'>,
    private readonly secret: string | undefined,
  ) {}

  /** Queues the final answer of a job that asked for a callback. */
  onJobFinal = async (
    job: DetectJob,
    outcome: { result: DetectJobResult } | { error: AppError },
  ): Promise<void> => {
    const url = job.data.callbackUrl;
    if (!url) return;
    const { publicBase } = job.data;
    const answer: FinalAnswer =
      'result' in outcome
        ? {
            error_code: 0,
            error_msg: 'SUCCESS',
            job_id: job.id,
            // The links a poll of the job answers: complete, as the gateway completes them.
            faces_obj: publicBase
              ? absolutizeFaceUrls(outcome.result.faces_obj, publicBase)
              : outcome.result.faces_obj,
            tracks: publicBase
              ? absolutizeTrackUrls(outcome.result.tracks ?? null, publicBase)
              : (outcome.result.tracks ?? null),
          }
        : { error_code: 1, error_msg: outcome.error.message, job_id: job.id, faces_obj: {} };
    await this.queue.enqueue({ url, jobId: job.id, body: JSON.stringify(answer) });
  };

  deliver = async ({ url, body }: WebhookJobData): Promise<void> => {
    const headers: Record<string, string> = { 'user-agent': 'facedetect-webhook' };
    if (this.secret) headers['x-signature'] = signature(body, this.secret);
    const { status } = await this.poster.postJson(url, body, headers);
    if (status < 200 || status >= 300) {
      throw new CallbackRejectedError(status);
    }
  };
}
