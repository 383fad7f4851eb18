import type { JobStatusAnswer } from '../../shared/contract/api-contract.js';
import type { QueueKind } from '../../shared/contract/detect-job.contract.js';
import { NotFoundError } from '../../shared/errors/errors.js';
import { parseJobId } from '../../shared/queue/job-id.js';
import type { JobRecords } from '../repositories/job-records.js';

/** Reads a job by id for polling clients. */
export class JobStatusService {
  constructor(
    private readonly queue: JobRecords,
    private readonly resultTtlS: number,
  ) {}

  /**
   * `reader` is the asking key's owner id (undefined without authentication). A job of another key is
   * answered exactly as an unknown one, so a key cannot even learn that an id exists: its owner is checked
   * before anything else of it is read, so that it costs what an unknown id costs too.
   */
  async status(jobId: string, reader: string | undefined, now = Date.now()): Promise<JobStatusAnswer> {
    const parsed = parseJobId(jobId);
    if (!parsed)
      throw new NotFoundError(
        `Unknown job id '${jobId.slice(0, 80)}'; use the job_id a detect request returned`,
      );
    const snapshot = (await this.mayRead(jobId, parsed.kind, reader))
      ? await this.queue.find(jobId, parsed.kind)
      : undefined;
    if (!snapshot) {
      if (now - parsed.createdAt > this.resultTtlS * 1000) {
        throw new NotFoundError(
          `Job ${jobId} expired: results are kept for ${this.resultTtlS} s; send the request again`,
        );
      }
      throw new NotFoundError(`Unknown job id '${jobId}'; use the job_id a detect request returned`);
    }
    const answer: JobStatusAnswer = {
      job_id: jobId,
      status: snapshot.state,
      progress: snapshot.progress,
      result: null,
    };
    if (snapshot.result) {
      answer.result = {
        error_code: 0,
        error_msg: 'SUCCESS',
        job_id: jobId,
        faces_obj: snapshot.result.faces_obj,
        tracks: snapshot.result.tracks ?? null,
      };
    }
    if (snapshot.error) {
      answer.error_code = 1;
      answer.error_msg = snapshot.error.message;
    }
    return answer;
  }

  private async mayRead(jobId: string, kind: QueueKind, reader: string | undefined): Promise<boolean> {
    if (reader === undefined) return true;
    const found = await this.queue.ownerOf(jobId, kind);
    return found?.owner === reader;
  }
}
