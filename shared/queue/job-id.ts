import { randomUUID } from 'node:crypto';
import type { QueueKind } from '../contract/detect-job.contract.js';

/**
 * Job ids name their queue and creation time: `i-<ms base36>-<uuid>` for images, `v-…` for videos. The
 * status endpoint then reads one queue, and can tell an expired id from one that never existed. The UUID
 * makes ids unguessable.
 */
export interface ParsedJobId {
  kind: QueueKind;
  createdAt: number;
}

const PATTERN = /^([iv])-([0-9a-z]{1,12})-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function newJobId(kind: QueueKind, now = Date.now()): string {
  return `${kind === 'image' ? 'i' : 'v'}-${now.toString(36)}-${randomUUID()}`;
}

export function parseJobId(id: string): ParsedJobId | undefined {
  const m = PATTERN.exec(id);
  if (!m) return undefined;
  return { kind: m[1] === 'i' ? 'image' : 'video', createdAt: parseInt(m[2]!, 36) };
}

/**
 * The id a job takes in the other lane when its bytes move it there: the same time and UUID, the other
 * prefix, so that whoever holds either id can find the other without a lookup.
 */
export function linkedJobId(id: string): string {
  return `${id.startsWith('i-') ? 'v' : 'i'}${id.slice(1)}`;
}

export const otherLane = (kind: QueueKind): QueueKind => (kind === 'image' ? 'video' : 'image');

const BATCH_PATTERN = /^b-([0-9a-z]{1,12})-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A batch job's id, `b-<ms base36>-<uuid>`: its own kind, so the status path knows to read a batch record. */
export function newBatchId(now = Date.now()): string {
  return `b-${now.toString(36)}-${randomUUID()}`;
}

/** The creation time of a batch id, or undefined when `id` is not one. */
export function parseBatchId(id: string): { createdAt: number } | undefined {
  const m = BATCH_PATTERN.exec(id);
  return m ? { createdAt: parseInt(m[1]!, 36) } : undefined;
}
