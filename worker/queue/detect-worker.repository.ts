import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import {
  DETECT_JOB_NAME,
  QUEUES,
  type DetectJobData,
  type DetectJobProgress,
  type DetectJobResult,
  type DetectJobReturn,
  type LaneMove,
  type QueueKind,
} from '../../shared/contract/detect-job.contract.js';
import { linkedJobId, otherLane } from '../../shared/queue/job-id.js';
import { openDetectQueues, type DetectQueue } from '../../shared/queue/detect-queues.js';
import type { AppError } from '../../shared/errors/app-error.js';
import { QueueFullError, WorkerLostError } from '../../shared/errors/errors.js';
import { isStallFailure } from '../../shared/errors/job-error-codec.js';
import { judgeFailedAttempt } from './failed-attempt.js';
import type { Logger } from '../../shared/logging/logger.js';
import type { RedisSettings } from '../../shared/config/redis-config.js';
import type { RedisOutageLog } from '../../shared/queue/redis-outage-log.js';
import { createRedis, type RedisClient } from '../../shared/queue/redis-connection.js';

/** What a handler sees of a BullMQ job. */
export interface DetectJob {
  /** The id the client was given, which answers and crops carry (a moved job's original id). */
  id: string;
  kind: QueueKind;
  data: DetectJobData;
  updateProgress(progress: DetectJobProgress): Promise<void>;
}

/** A handler's answer for a job whose bytes belong to the other queue: it is moved there (see `LaneMove`). */
export interface OtherLane {
  otherLane: true;
}

export type DetectJobHandler = (job: DetectJob) => Promise<DetectJobResult | OtherLane>;

export interface DetectWorkerOptions {
  redis: RedisSettings;
  /** Starts every key; a hash tag, so that in a Cluster all of them share the slot of the queues. */
  prefix: string;
  /** Jobs one process runs at once, per queue. */
  concurrency: Record<QueueKind, number>;
  /** Waiting jobs in a lane at which a job whose bytes belong there is failed instead of moved (MAX_QUEUE_DEPTH). */
  maxQueueDepth: number;
  /**
   * Lock duration; a worker that dies mid-job loses its lock after this long and the job runs elsewhere.
   * @defaultValue 30000
   */
  lockDurationMs?: number;
  /**
   * How often stalled jobs are looked for.
   * @defaultValue 30000
   */
  stalledIntervalMs?: number;
  /** Called when a job ends, for metrics. */
  onJobEnd?: (
    kind: QueueKind,
    outcome: 'completed' | 'moved' | 'failed' | 'retried',
    seconds: number,
  ) => void;
  /** Logs Redis being unreachable once per retry interval instead of once per connection and attempt. */
  outage?: RedisOutageLog;
  /** Called once a job is done for good: completed, or failed with no retry left (callbacks). */
  onFinal?: (job: DetectJob, outcome: { result: DetectJobResult } | { error: AppError }) => Promise<void>;
}

/**
 * The worker's side of BullMQ: one Worker per queue. A failed attempt is retried with backoff or failed at
 * once as `judgeFailedAttempt` decides; either way the failure reason carries the user-facing error, encoded.
 */
export class DetectWorkerRepository {
  private readonly workers: Worker<DetectJobData, DetectJobReturn>[] = [];
  private readonly clients: RedisClient[] = [];
  private closing = false;
  /** Where jobs that belong to the other lane are queued. */
  private lanes: Record<QueueKind, DetectQueue> | undefined;

  constructor(
    private readonly options: DetectWorkerOptions,
    private readonly handler: DetectJobHandler,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const producer = createRedis(this.options.redis, 'worker', 'facedetect-worker-lanes');
    this.clients.push(producer);
    this.lanes = openDetectQueues(producer, this.options.prefix);
    for (const kind of Object.keys(QUEUES) as QueueKind[]) {
      const connection = createRedis(this.options.redis, 'worker', `facedetect-worker-${kind}`);
      this.clients.push(connection);
      connection.on('ready', () => this.options.outage?.recovered());
      const worker = new Worker<DetectJobData, DetectJobReturn>(
        QUEUES[kind],
        (job, token) => this.process(kind, job, token),
        {
          connection,
          prefix: this.options.prefix,
          concurrency: this.options.concurrency[kind],
          lockDuration: this.options.lockDurationMs ?? 30_000,
          stalledInterval: this.options.stalledIntervalMs ?? 30_000,
          maxStalledCount: 1,
        },
      );
      worker.on('error', (err) => {
        if (!this.options.outage?.report(err))
          this.log.error({ err, queue: QUEUES[kind] }, 'queue worker error');
      });
      worker.on('failed', (job, err) => {
        if (job && isStallFailure(err.message)) void this.onStalled(kind, job);
      });
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  /** Stops taking jobs and waits for the active ones to finish (BullMQ `close`). */
  async close(force = false): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.close(force)));
    await Promise.all(Object.values(this.lanes ?? {}).map((q) => q.close()));
    // BullMQ leaves a connection it was handed open on close.
    for (const client of this.clients) client.disconnect();
  }

  private async process(
    kind: QueueKind,
    job: Job<DetectJobData, DetectJobReturn>,
    token?: string,
  ): Promise<DetectJobReturn> {
    // BullMQ's blocking wait, still in flight while close() waits for the active jobs, takes a job that
    // arrives then: a stopping worker hands it back untouched, for the next worker to run.
    if (this.closing) {
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    }
    if (job.name !== DETECT_JOB_NAME) throw new UnrecoverableError(`unknown job name ${job.name}`);
    const started = performance.now();
    const log = this.log.child({ jobId: job.id, requestId: job.data.requestId, queue: QUEUES[kind] });
    const elapsed = () => (performance.now() - started) / 1000;
    const detectJob = asDetectJob(kind, job);
    // A worker killed mid-job writes no end line: this one shows where each attempt ran.
    log.info({ attempt: job.attemptsMade + 1 }, 'job started');
    try {
      const movedBefore = await this.movedBefore(kind, job);
      if (movedBefore) {
        log.info({ seconds: elapsed(), movedTo: movedBefore.movedTo }, 'job had moved lanes already');
        this.options.onJobEnd?.(kind, 'moved', elapsed());
        return movedBefore;
      }
      const result = await this.handler(detectJob);
      if ('otherLane' in result) {
        const move = await this.move(kind, job);
        log.info({ seconds: elapsed(), movedTo: move.movedTo }, 'job moved to the lane of its bytes');
        this.options.onJobEnd?.(kind, 'moved', elapsed());
        return move;
      }
      log.info({ seconds: elapsed() }, 'job completed');
      this.options.onJobEnd?.(kind, 'completed', elapsed());
      await this.final(detectJob, { result }, log);
      return result;
    } catch (err) {
      const attempt = job.attemptsMade + 1;
      const failure = judgeFailedAttempt(err, attempt, job.opts.attempts);
      const { error } = failure;
      if (failure.cause === 'rejected') log.info({ code: error.code, reason: error.message }, 'job rejected');
      else if (failure.cause === 'unexpected')
        log.error({ err }, 'job failed on an unexpected error; not retried');
      else log.warn({ err, attempt }, failure.retry ? 'job failed, will retry' : 'job failed');
      this.options.onJobEnd?.(kind, failure.retry ? 'retried' : 'failed', elapsed());
      if (!failure.retry) await this.final(detectJob, { error }, log);
      throw failure.thrown;
    }
  }

  /**
   * Queues the job in the other lane under the linked id, with its own retry and retention options, as a
   * first attempt there. Adding an id that exists is a no-op, so a retried move queues it once. The other
   * lane's MAX_QUEUE_DEPTH applies as at the gateway, which could only check the lane the URL suggested:
   * else URLs that look like images but serve videos would fill the video lane past any bound.
   */
  private async move(from: QueueKind, job: Job<DetectJobData, DetectJobReturn>): Promise<LaneMove> {
    const movedTo = linkedJobId(job.id!);
    const to = otherLane(from);
    const waiting = await this.lanes![to].getWaitingCount();
    if (waiting >= this.options.maxQueueDepth)
      throw new QueueFullError(to, waiting, this.options.maxQueueDepth);
    const { attempts, backoff, removeOnComplete, removeOnFail } = job.opts;
    await this.lanes![to].add(
      DETECT_JOB_NAME,
      { ...job.data, movedFrom: job.id! },
      { jobId: movedTo, attempts, backoff, removeOnComplete, removeOnFail },
    );
    return { movedTo };
  }

  /**
   * The move of a job that had moved lanes before this run: a worker lost between the move and the end of
   * the original leaves the original to run again, and it must not run beside the moved job (two results,
   * two callbacks) nor fail while the moved one succeeds. A moved job never moves again, so it is not asked.
   */
  private async movedBefore(
    from: QueueKind,
    job: Job<DetectJobData, DetectJobReturn>,
  ): Promise<LaneMove | undefined> {
    if (job.data.movedFrom !== undefined) return undefined;
    const movedTo = linkedJobId(job.id!);
    const state = await this.lanes![otherLane(from)].getJobState(movedTo);
    return state === 'unknown' ? undefined : { movedTo };
  }

  /**
   * A job whose worker was lost more often than maxStalledCount allows is failed by BullMQ when a worker
   * next takes it, without running the processor, so its end is reported here, by that one worker. An
   * original whose moved job exists leaves the report to that job.
   */
  private async onStalled(kind: QueueKind, job: Job<DetectJobData, DetectJobReturn>): Promise<void> {
    const log = this.log.child({ jobId: job.id, requestId: job.data.requestId, queue: QUEUES[kind] });
    try {
      if (await this.movedBefore(kind, job)) return;
      log.warn('job failed: its worker was lost more often than allowed');
      await this.final(asDetectJob(kind, job), { error: new WorkerLostError() }, log);
    } catch (err) {
      log.error({ err }, 'could not report the end of a stalled job');
    }
  }

  /** A failing end-of-job hook (callback queueing) must not change the job's own outcome. */
  private async final(
    job: DetectJob,
    outcome: { result: DetectJobResult } | { error: AppError },
    log: Logger,
  ) {
    try {
      await this.options.onFinal?.(job, outcome);
    } catch (err) {
      log.error({ err }, 'job end hook failed');
    }
  }
}

/** The job as its handler and end hooks see it: under the id the client was given, moved or not. */
function asDetectJob(kind: QueueKind, job: Job<DetectJobData, DetectJobReturn>): DetectJob {
  return {
    id: job.data.movedFrom ?? job.id!,
    kind,
    data: job.data,
    updateProgress: (p) => job.updateProgress(p),
  };
}
