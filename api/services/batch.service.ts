import type { BatchItem, BatchStatusAnswer, DetectPending } from '../../shared/contract/api-contract.js';
import type { BatchSuccess, DetectSuccess, Track } from '../../shared/contract/api-contract.js';
import type { BatchMembership } from '../../shared/contract/detect-job.contract.js';
import type { BatchFinisher } from '../../shared/batch/batch-finisher.js';
import { failedItem as failed, succeededItem } from '../../shared/batch/batch-items.js';
import type { UrlGuard } from '../../shared/net/url-guard.js';
import { absolutizeLinks } from '../../shared/contract/absolute-face-urls.js';
import { AppError } from '../../shared/errors/app-error.js';
import { NotFoundError } from '../../shared/errors/errors.js';
import { newBatchId, parseJobId } from '../../shared/queue/job-id.js';
import type { BatchEntry, BatchRecordsRepository } from '../repositories/batch-records.repository.js';
import type { JobRecords } from '../repositories/job-records.js';
import type { BatchRequest } from '../validation/batch-request.schema.js';
import type { DetectService, Submitter } from './detect.service.js';

export type BatchAnswer = { status: 200; body: BatchSuccess } | { status: 202; body: DetectPending };

/**
 * A batch is a parent record over ordinary detect jobs: its items share the queues, lanes and inference
 * pool with every other request, and the gateway puts their answers together in request order. With a
 * `callback_url`, each item's final answer is also recorded under the batch, and whoever records the last
 * (a worker, or this gateway for an item refused here) queues the batch's answer for delivery.
 */
export class BatchService {
  constructor(
    private readonly detect: Pick<DetectService, 'detect'>,
    private readonly jobs: JobRecords,
    private readonly records: Pick<BatchRecordsRepository, 'save' | 'load'>,
    private readonly resultTtlS: number,
    private readonly callbacks: {
      finisher: Pick<BatchFinisher, 'itemFinal'>;
      /** Refuses a callback_url on a non-public address at submit time. */
      urls: Pick<UrlGuard, 'check'>;
    },
  ) {}

  /** Submits every item at once; a sync batch waits for each within SYNC_TIMEOUT_MS, as /detect does. */
  async submit(batch: BatchRequest, submitter: Submitter): Promise<BatchAnswer> {
    if (batch.callbackUrl !== undefined) await this.callbacks.urls.check('callback_url', batch.callbackUrl);
    const batchId = newBatchId();
    const member = (index: number): BatchMembership | undefined =>
      batch.callbackUrl === undefined
        ? undefined
        : { id: batchId, index, total: batch.items.length, callbackUrl: batch.callbackUrl };
    const settled = await Promise.all(
      batch.items.map((item, index) => this.submitItem(item, batch, submitter, member(index))),
    );
    const entries = settled.map((s) => s.entry);
    await this.records.save(batchId, { ...(submitter.owner ? { owner: submitter.owner } : {}), entries });
    await this.recordRefusals(settled, member);
    const items = settled.map((s) => s.item);
    // An async batch is 202 even when every item was refused here, so its client has one path to follow.
    if (!batch.async && items.every((item): item is BatchItem => item !== null)) {
      return { status: 200, body: { error_code: 0, error_msg: 'SUCCESS', job_id: batchId, items } };
    }
    const status_url = `${submitter.publicBase}/jobs/${batchId}`;
    return { status: 202, body: { error_code: 0, error_msg: 'PENDING', job_id: batchId, status_url } };
  }

  /** Where a batch stands; another key's batch is answered as an unknown id, as jobs are. */
  async status(batchId: string, reader: string | undefined, base: string): Promise<BatchStatusAnswer> {
    const record = await this.records.load(batchId);
    if (!record || (reader !== undefined && record.owner !== reader)) {
      throw new NotFoundError(
        `Unknown job id '${batchId.slice(0, 80)}'; use the job_id a detect request returned`,
      );
    }
    const items = await Promise.all(record.entries.map((entry) => this.readEntry(entry, base)));
    const finished = items.filter((item): item is BatchItem => item !== null);
    const done = finished.length === items.length;
    return {
      job_id: batchId,
      status: done ? 'completed' : 'active',
      progress: { done: finished.length, total: items.length },
      items,
      result: done ? { error_code: 0, error_msg: 'SUCCESS', job_id: batchId, items: finished } : null,
    };
  }

  private async submitItem(
    item: BatchRequest['items'][number],
    batch: BatchRequest,
    submitter: Submitter,
    membership: BatchMembership | undefined,
  ): Promise<{ entry: BatchEntry; item: BatchItem | null }> {
    if (item instanceof AppError) return refused(item);
    try {
      const answer = await this.detect.detect({ ...item, async: batch.async }, submitter, membership);
      const entry = { jobId: answer.body.job_id };
      if (answer.status === 202) return { entry, item: null };
      return { entry, item: succeeded(answer.body, submitter.publicBase) };
    } catch (err) {
      if (err instanceof AppError) return refused(err);
      throw err;
    }
  }

  /**
   * A refused item has no job to report its end, so the gateway records it. An item whose sync wait saw its
   * job fail is reported by the worker too; the first record stands, and both say the same.
   */
  private async recordRefusals(
    settled: { entry: BatchEntry; item: BatchItem | null }[],
    member: (index: number) => BatchMembership | undefined,
  ): Promise<void> {
    await Promise.all(
      settled.map(async ({ entry, item }, index) => {
        const membership = member(index);
        if (membership && item && 'error' in entry) await this.callbacks.finisher.itemFinal(membership, item);
      }),
    );
  }

  private async readEntry(entry: BatchEntry, base: string): Promise<BatchItem | null> {
    if ('error' in entry) return failed(entry.error.status, entry.error.message);
    const kind = parseJobId(entry.jobId)?.kind;
    const snapshot = kind && (await this.jobs.find(entry.jobId, kind));
    if (!snapshot)
      return failed(404, `Job ${entry.jobId} expired: results are kept for ${this.resultTtlS} s`);
    if (snapshot.result) return succeeded(snapshot.result, base);
    if (snapshot.error) return failed(snapshot.error.httpStatus, snapshot.error.message);
    return null;
  }
}

function refused(err: AppError): { entry: BatchEntry; item: BatchItem } {
  return {
    entry: { error: { status: err.httpStatus, message: err.message } },
    item: failed(err.httpStatus, err.message),
  };
}

/** An item's answer with the absolute links its own answer would carry, in its faces and its tracks. */
function succeeded(answer: Pick<DetectSuccess, 'faces_obj'> & { tracks?: Track[] | null }, base: string) {
  const { faces_obj, tracks } = absolutizeLinks(answer, base);
  return succeededItem(faces_obj, tracks);
}
