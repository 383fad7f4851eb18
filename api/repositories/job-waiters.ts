import {
  isLaneMove,
  type DetectJobReturn,
  type QueueKind,
} from '../../shared/contract/detect-job.contract.js';
import type { AppError } from '../../shared/errors/app-error.js';
import { linkedJobId } from '../../shared/queue/job-id.js';
import type { JobOutcome, JobSnapshot } from './job-records.js';

interface Waiter {
  settle: (outcome: JobOutcome) => void;
  /** The job's id and its linked id: it answers under whichever lane its bytes send it to. */
  ids: [string, string];
  /** The queue the job was added to. */
  kind: QueueKind;
}

/** Reads the job a client knows by id, or the job it moved to (see `DetectQueueRepository.find`). */
type FindJob = (jobId: string, kind: QueueKind) => Promise<JobSnapshot | undefined>;

/**
 * The requests that wait on their job, settled by the queues' completion and failure events. A waiter is
 * registered before its job is added, so no completion can slip past it.
 */
export class JobWaiters {
  private readonly waiters = new Map<string, Waiter>();

  constructor(private readonly find: FindJob) {}

  /**
   * Waits up to `waitMs` for the outcome of the job `jobId` that `add` adds to `kind`'s queue; a job still
   * running then is reported as pending.
   */
  async wait(kind: QueueKind, jobId: string, waitMs: number, add: () => Promise<void>): Promise<JobOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const ids: [string, string] = [jobId, linkedJobId(jobId)];
    const outcome = new Promise<JobOutcome>((resolve) => {
      for (const id of ids) this.waiters.set(id, { settle: resolve, ids, kind });
      timer = setTimeout(() => this.settle(jobId, { state: 'pending' }), waitMs);
    });
    try {
      await add();
    } catch (err) {
      for (const id of ids) this.waiters.delete(id);
      clearTimeout(timer);
      throw err;
    }
    const result = await outcome;
    clearTimeout(timer);
    if (result.state !== 'pending') return result;
    // A completion event can be lost while QueueEvents reconnects: look once more before answering 202.
    return finalOutcome(await this.find(jobId, kind).catch(() => undefined)) ?? result;
  }

  /** Whether a request waits on `jobId`: every gateway hears every completion, only its own are parsed. */
  has(jobId: string): boolean {
    return this.waiters.has(jobId);
  }

  completed(jobId: string, result: DetectJobReturn): void {
    // A job that moved lanes answers under its linked id, which its waiter also listens for.
    if (!isLaneMove(result)) this.settle(jobId, { state: 'completed', result });
  }

  failed(jobId: string, error: AppError): void {
    const waiter = this.waiters.get(jobId);
    if (!waiter) return;
    if (jobId !== waiter.ids[0]) {
      this.settle(jobId, { state: 'failed', error });
      return;
    }
    // An original can fail after it moved lanes: its worker lost between the move and its end, and lost
    // again on the rerun, BullMQ fails it as stalled. The moved job answers then, as a poll would read it.
    void this.find(jobId, waiter.kind).then(
      (snapshot) => {
        if (snapshot?.movedFrom !== jobId) this.settle(jobId, { state: 'failed', error });
        else {
          const moved = finalOutcome(snapshot);
          if (moved) this.settle(jobId, moved);
        }
      },
      // Unsure whether it moved: the moved job's events, or the last look once the wait is over, answer.
      () => undefined,
    );
  }

  /** Answers every waiting request as pending, for a gateway that stops. */
  close(): void {
    for (const waiter of this.waiters.values()) waiter.settle({ state: 'pending' });
    this.waiters.clear();
  }

  private settle(jobId: string, outcome: JobOutcome): void {
    const waiter = this.waiters.get(jobId);
    if (!waiter) return;
    for (const id of waiter.ids) this.waiters.delete(id);
    waiter.settle(outcome);
  }
}

/** The outcome a snapshot shows, when its job is done. */
function finalOutcome(snapshot: JobSnapshot | undefined): JobOutcome | undefined {
  if (snapshot?.state === 'completed' && snapshot.result)
    return { state: 'completed', result: snapshot.result };
  if (snapshot?.state === 'failed' && snapshot.error) return { state: 'failed', error: snapshot.error };
  return undefined;
}
