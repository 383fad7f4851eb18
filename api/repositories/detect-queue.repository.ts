import { Job, QueueEvents } from 'bullmq';
import {
  DETECT_JOB_NAME,
  QUEUES,
  type DetectJobData,
  type DetectJobProgress,
  type DetectJobReturn,
  isLaneMove,
  type QueueKind,
} from '../../shared/contract/detect-job.contract.js';
import { linkedJobId, otherLane } from '../../shared/queue/job-id.js';
import { openDetectQueues, type DetectQueue } from '../../shared/queue/detect-queues.js';
import { decodeJobError } from '../../shared/errors/job-error-codec.js';
import type { RedisSettings } from '../../shared/config/redis-config.js';
import { createRedis, gatewayCommand, type RedisClient } from '../../shared/queue/redis-connection.js';
import type { JobOutcome, JobRecords, JobSnapshot, JobOwnership, JobState } from './job-records.js';
import { JobWaiters } from './job-waiters.js';

export interface DetectQueueOptions {
  redis: RedisSettings;
  /** Starts every key; a hash tag, so that in a Cluster all of them share the slot of the queues. */
  prefix: string;
  /** Tries per job; transient failures retry with exponential backoff. */
  attempts: number;
  backoffMs: number;
  /** How long finished jobs (and their results) are kept. */
  resultTtlS: number;
  /**
   * How long a Redis command may take before the gateway gives up and answers 503.
   * @defaultValue 2000
   */
  commandTimeoutMs?: number;
}

/**
 * Picks the owner out of the job's `data` (the request, a few hundred bytes) inside Redis, so that only the
 * owner id (22 characters, or none) comes back, and nothing of the result is read, whatever its size.
 */
const OWNER = `
local data = redis.call('HGET', KEYS[1], 'data') or redis.call('HGET', KEYS[2], 'data')
if not data then return false end
local ok, job = pcall(cjson.decode, data)
if ok and type(job) == 'table' and type(job.owner) == 'string' then return job.owner end
return ''
`;

/**
 * The gateway's side of BullMQ: adds jobs and waits for their results. One QueueEvents per queue feeds the
 * waiting requests (waitUntilFinished per request is not safe when finished jobs are removed).
 */
export class DetectQueueRepository implements JobRecords {
  private readonly waiters = new JobWaiters((jobId, kind) => this.find(jobId, kind));

  /** The listeners, made once Redis answers (see `listen`). */
  private events: QueueEvents[] = [];
  private closing = false;
  /**
   * Resolves once every QueueEvents listens. Jobs are added only after it, or a fast completion could be
   * missed; until then (Redis down since the start) submitting and readiness answer 503.
   */
  private readonly listening: Promise<void>;

  private constructor(
    private readonly options: DetectQueueOptions,
    private readonly clients: { gateway: RedisClient; events: RedisClient },
    private readonly queues: Record<QueueKind, DetectQueue>,
  ) {
    this.listening = this.listen();
    this.listening.catch(() => undefined);
  }

  static async connect(options: DetectQueueOptions): Promise<DetectQueueRepository> {
    const client = createRedis(options.redis, 'gateway', 'facedetect-gateway');
    const defaultJobOptions = {
      attempts: options.attempts,
      backoff: { type: 'exponential', delay: options.backoffMs },
      removeOnComplete: { age: options.resultTtlS },
      removeOnFail: { age: options.resultTtlS },
    };
    const queues = openDetectQueues(client, options.prefix, defaultJobOptions);
    // Not lazy: it reconnects by itself until Redis answers, which `listen` waits for.
    const eventsClient = createRedis(options.redis, 'worker', 'facedetect-gateway-events');
    const repo = new DetectQueueRepository(options, { gateway: client, events: eventsClient }, queues);
    // A Redis that is up is listened to before the first request; one that is down must not stop the start.
    await repo.command(repo.listening).catch(() => undefined);
    return repo;
  }

  /** The gateway's own Redis connection, for the other gateway features (blobs, rate limits, readiness). */
  get redis(): RedisClient {
    return this.clients.gateway;
  }

  /**
   * Adds a job and waits up to `waitMs` for its outcome. A job still running then is reported as pending;
   * it goes on, and its result is read later by id.
   */
  async submit(kind: QueueKind, jobId: string, data: DetectJobData, waitMs: number): Promise<JobOutcome> {
    await this.command(this.listening);
    if (waitMs <= 0) {
      await this.add(kind, jobId, data);
      return { state: 'pending' };
    }
    return this.waiters.wait(kind, jobId, waitMs, () => this.add(kind, jobId, data));
  }

  /**
   * The owner of the job a client knows by `jobId`, or of the job it moved to in the other lane when the
   * record of the move has expired (see `find`).
   */
  async ownerOf(jobId: string, kind: QueueKind): Promise<JobOwnership | undefined> {
    const owner = (await this.command(
      this.clients.gateway.eval(
        OWNER,
        2,
        this.queues[kind].toKey(jobId),
        this.queues[otherLane(kind)].toKey(linkedJobId(jobId)),
      ),
    )) as string | null;
    if (owner === null) return undefined;
    return { owner: owner === '' ? undefined : owner };
  }

  /**
   * The state of the job a client knows by `jobId`: the job it moved to in the other lane whenever that
   * exists (also when it outlives the record of the move, or when the original, run again after its worker
   * was lost, ended otherwise), else the job itself. One hop: a moved job never moves again.
   */
  async find(jobId: string, kind: QueueKind): Promise<JobSnapshot | undefined> {
    const moved = await this.get(linkedJobId(jobId), otherLane(kind));
    if (moved?.movedFrom === jobId) return moved;
    const own = await this.get(jobId, kind);
    return own && own.movedTo === undefined ? own : undefined;
  }

  /** The job's current state, or undefined when no such job exists (never did, or expired). */
  async get(jobId: string, kind: QueueKind): Promise<JobSnapshot | undefined> {
    // State before record: a job that finishes between the two reads is then seen as still active, never
    // as completed without its result.
    const raw = await this.command(this.queues[kind].getJobState(jobId));
    const job = await this.command(Job.fromId<DetectJobData, DetectJobReturn>(this.queues[kind], jobId));
    if (raw === 'unknown' || !job) return undefined;
    const state: JobState = raw === 'completed' || raw === 'failed' || raw === 'active' ? raw : 'waiting';
    const progress =
      typeof job.progress === 'object' && job.progress !== null ? (job.progress as DetectJobProgress) : null;
    const value = state === 'completed' ? job.returnvalue : undefined;
    return {
      state,
      progress,
      result: isLaneMove(value) ? undefined : value,
      error: state === 'failed' ? decodeJobError(job.failedReason) : undefined,
      owner: job.data.owner,
      movedTo: isLaneMove(value) ? value.movedTo : undefined,
      movedFrom: job.data.movedFrom,
    };
  }

  /** Jobs waiting (not yet active) in a queue: the backpressure signal. */
  async waitingCount(kind: QueueKind): Promise<number> {
    return this.command(this.queues[kind].getWaitingCount());
  }

  async jobCounts(kind: QueueKind): Promise<Record<string, number>> {
    return this.command(
      this.queues[kind].getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized'),
    );
  }

  /**
   * Worker processes taking jobs from each queue, counted by their Redis connections: BullMQ names each
   * worker's blocking connection after its queue.
   */
  async workerCounts(): Promise<Record<QueueKind, number>> {
    const kinds = Object.keys(QUEUES) as QueueKind[];
    const counts = await Promise.all(kinds.map((kind) => this.command(this.queues[kind].getWorkersCount())));
    return Object.fromEntries(kinds.map((kind, i) => [kind, counts[i]])) as Record<QueueKind, number>;
  }

  /**
   * Reads a key of the queues rather than sending PING: a Cluster answers a PING from any node, but this
   * read only from the primary that holds the queues.
   */
  async ping(): Promise<void> {
    await this.command(this.listening);
    await this.command(this.clients.gateway.exists(`${this.options.prefix}:${QUEUES.image}:meta`));
  }

  async close(): Promise<void> {
    this.closing = true;
    this.waiters.close();
    await Promise.allSettled([
      ...Object.values(this.queues).map((q) => q.close()),
      ...this.events.map((ev) => ev.close()),
    ]);
    // BullMQ leaves a connection it was handed open on close.
    this.clients.gateway.disconnect();
    this.clients.events.disconnect();
  }

  /**
   * One QueueEvents per queue, each on a copy of the events client, made only once that client is ready:
   * BullMQ's listeners neither retry a first connection that fails nor close while they wait for one.
   */
  private async listen(): Promise<void> {
    await untilReady(this.clients.events);
    if (this.closing) return;
    this.events = Object.values(QUEUES).map(
      (name) => new QueueEvents(name, { connection: this.clients.events, prefix: this.options.prefix }),
    );
    for (const ev of this.events) {
      ev.on('error', () => undefined);
      ev.on('completed', ({ jobId, returnvalue }) => {
        if (!this.waiters.has(jobId)) return;
        const result = (
          typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue
        ) as DetectJobReturn;
        this.waiters.completed(jobId, result);
      });
      ev.on('failed', ({ jobId, failedReason }) => this.waiters.failed(jobId, decodeJobError(failedReason)));
    }
    await Promise.all(this.events.map((ev) => ev.waitUntilReady()));
  }

  private async add(kind: QueueKind, jobId: string, data: DetectJobData): Promise<void> {
    await this.command(this.queues[kind].add(DETECT_JOB_NAME, data, { jobId }));
  }

  private command<T>(promise: Promise<T>): Promise<T> {
    return gatewayCommand(promise, this.options.commandTimeoutMs ?? 2000);
  }
}

/** Resolves when the client is ready; rejects once it has been closed for good. */
function untilReady(client: RedisClient): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('end', () => reject(new Error('closed before Redis answered')));
  });
}
