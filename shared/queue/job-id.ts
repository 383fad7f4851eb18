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
