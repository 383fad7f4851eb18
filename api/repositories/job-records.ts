import type { AppError } from '../../shared/errors/app-error.js';
import type {
  DetectJobProgress,
  DetectJobResult,
  QueueKind,
} from '../../shared/contract/detect-job.contract.js';

/** What the gateway reads of a job: its outcome for a waiting request, its state for a poll. */

export type JobOutcome =
  | { state: 'completed'; result: DetectJobResult }
  | { state: 'failed'; error: AppError }
  | { state: 'pending' };

export type JobState = 'waiting' | 'active' | 'completed' | 'failed';

export interface JobSnapshot {
  state: JobState;
  progress: DetectJobProgress | null;
  result?: DetectJobResult;
  error?: AppError;
  /** The submitting key's owner id; undefined when the job was submitted without authentication. */
  owner: string | undefined;
  /** The linked id of the other lane that a job whose bytes belonged there moved to (see `LaneMove`). */
  movedTo?: string;
  /** The id the job had before it moved lanes. */
  movedFrom?: string;
}

/** Who may read a job back: the submitting key's owner id, or undefined for a job submitted without authentication. */
export interface JobOwnership {
  owner: string | undefined;
}

/**
 * What reading a job by id takes: its owner alone first, which costs the same whatever the job holds, and
 * then, for its owner only, the whole job.
 */
export interface JobRecords {
  /** The job's owner, or undefined when no such job exists; reads nothing else of the job. */
  ownerOf(jobId: string, kind: QueueKind): Promise<JobOwnership | undefined>;
  find(jobId: string, kind: QueueKind): Promise<JobSnapshot | undefined>;
}
