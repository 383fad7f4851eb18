import { Queue, type DefaultJobOptions } from 'bullmq';
import {
  QUEUES,
  type DetectJobData,
  type DetectJobReturn,
  type QueueKind,
} from '../contract/detect-job.contract.js';
import type { RedisClient } from './redis-connection.js';

/** A detection lane as BullMQ holds it: the request in, a result or a lane move out. */
export type DetectQueue = Queue<DetectJobData, DetectJobReturn>;

/**
 * Both detection lanes on one connection, as the gateway (which adds jobs with `defaultJobOptions`) and the
 * worker (which moves jobs between them) each open them. Their errors are the connection's, which its
 * owner reports, so the queues' own are dropped.
 */
export function openDetectQueues(
  connection: RedisClient,
  prefix: string,
  defaultJobOptions?: DefaultJobOptions,
): Record<QueueKind, DetectQueue> {
  const open = (kind: QueueKind): DetectQueue =>
    new Queue(QUEUES[kind], { connection, prefix, defaultJobOptions });
  const queues = { image: open('image'), video: open('video') };
  for (const queue of Object.values(queues)) queue.on('error', () => undefined);
  return queues;
}
