import type { BatchItem, BatchStatusAnswer, DetectPending } from '../../shared/contract/api-contract.js';
import type { BatchSuccess } from '../../shared/contract/api-contract.js';
import { absolutizeFaceUrls } from '../../shared/contract/absolute-face-urls.js';
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
 * pool with every other request, and the gateway puts their answers together in request order.
 */
export class BatchService {
  constructor(
    private readonly detect: Pick<DetectService, 'detect'>,
    private readonly jobs: JobRecords,
    private readonly records: Pick<BatchRecordsRepository, 'save' | 'load'>,
    private readonly resultTtlS: number,
  ) {}

  /** Submits every item at once; a sync batch waits for each within SYNC_TIMEOUT_MS, as /detect does. */
  async submit(batch: BatchRequest, submitter: Submitter): Promise<BatchAnswer> {
    const batchId = newBatchId();
    const settled = await Promise.all(batch.items.map((item) => this.submitItem(item, batch, submitter)));
    const entries = settled.map((s) => s.entry);
    await this.records.save(batchId, { ...(submitter.owner ? { owner: submitter.owner } : {}), entries });
    const items = settled.map((s) => s.item);
    if (items.every((item): item is BatchItem => item !== null)) {
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
  ): Promise<{ entry: BatchEntry; item: BatchItem | null }> {
    if (item instanceof AppError) return refused(item);
    try {
      const answer = await this.detect.detect({ ...item, async: batch.async }, submitter);
      const entry = { jobId: answer.body.job_id };
      if (answer.status === 202) return { entry, item: null };
      const faces = absolutizeFaceUrls(answer.body.faces_obj, submitter.publicBase);
      return { entry, item: succeeded(faces, answer.body) };
    } catch (err) {
      if (err instanceof AppError) return refused(err);
      throw err;
    }
  }

  private async readEntry(entry: BatchEntry, base: string): Promise<BatchItem | null> {
    if ('error' in entry) return failed(entry.error.status, entry.error.message);
    const kind = parseJobId(entry.jobId)?.kind;
    const snapshot = kind && (await this.jobs.find(entry.jobId, kind));
    if (!snapshot)
      return failed(404, `Job ${entry.jobId} expired: results are kept for ${this.resultTtlS} s`);
    if (snapshot.result)
      return succeeded(absolutizeFaceUrls(snapshot.result.faces_obj, base), snapshot.result);
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

function failed(status: number, message: string): BatchItem {
  return { status, error_code: 1, error_msg: message, faces_obj: {}, tracks: null };
}

/** An item's `tracks` are whatever its own answer carries: null until the video answer has some. */
function succeeded(faces: BatchItem['faces_obj'], answer: object): BatchItem {
  const tracks = 'tracks' in answer ? answer.tracks : null;
  return { status: 200, error_code: 0, error_msg: 'SUCCESS', faces_obj: faces, tracks: tracks ?? null };
}
