import { expect } from 'chai';
import { JobStatusService } from '../../api/services/job-status.service.js';
import type { JobOwnership, JobRecords, JobSnapshot } from '../../api/repositories/job-records.js';
import type { QueueKind } from '../../shared/contract/detect-job.contract.js';
import { AppError } from '../../shared/errors/app-error.js';
import { newJobId } from '../../shared/queue/job-id.js';

const OWNER_A = 'owner-a-0123456789abcd';
const OWNER_B = 'owner-b-0123456789abcd';

/** One finished job of key A, recording which of its reads were asked for. */
class OneJob implements JobRecords {
  readonly reads: string[] = [];

  constructor(
    private readonly jobId: string,
    private readonly owner: string | undefined,
  ) {}

  ownerOf(jobId: string, _kind: QueueKind): Promise<JobOwnership | undefined> {
    this.reads.push(`owner ${jobId}`);
    return Promise.resolve(jobId === this.jobId ? { owner: this.owner } : undefined);
  }

  find(jobId: string, _kind: QueueKind): Promise<JobSnapshot | undefined> {
    this.reads.push(`job ${jobId}`);
    if (jobId !== this.jobId) return Promise.resolve(undefined);
    return Promise.resolve({
      state: 'completed',
      progress: null,
      owner: this.owner,
      result: { faces_obj: {}, media: 'image', worker: 'w' },
    });
  }
}

async function refusal(answer: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await answer;
  } catch (err) {
    expect(err).to.be.instanceOf(AppError);
    return { status: (err as AppError).httpStatus, message: (err as AppError).message };
  }
  throw new Error('expected a refusal');
}

describe('JobStatusService', () => {
  const jobId = newJobId('image');
  const unknownId = newJobId('image');

  it("when another key asks for a job, then only its owner is read, never the job, and the 404 is an unknown id's", async () => {
    const records = new OneJob(jobId, OWNER_A);
    const service = new JobStatusService(records, 3600);
    const theirs = await refusal(service.status(jobId, OWNER_B));
    const unknown = await refusal(service.status(unknownId, OWNER_B));
    expect(records.reads).to.deep.equal([`owner ${jobId}`, `owner ${unknownId}`]);
    expect(theirs).to.deep.equal({ ...unknown, message: unknown.message.replace(unknownId, jobId) });
    expect(theirs.status).to.equal(404);
  });

  it('when a key asks for a job submitted without authentication, then it reads only the owner and gets a 404', async () => {
    const records = new OneJob(jobId, undefined);
    expect((await refusal(new JobStatusService(records, 3600).status(jobId, OWNER_A))).status).to.equal(404);
    expect(records.reads).to.deep.equal([`owner ${jobId}`]);
  });

  it("when the job's own key asks, then the owner is read before the job and the result is answered", async () => {
    const records = new OneJob(jobId, OWNER_A);
    const answer = await new JobStatusService(records, 3600).status(jobId, OWNER_A);
    expect(records.reads).to.deep.equal([`owner ${jobId}`, `job ${jobId}`]);
    expect(answer.status).to.equal('completed');
    expect(answer.result).to.deep.include({ error_code: 0, job_id: jobId, faces_obj: {} });
  });

  it('when authentication is off, then any job is read and answered', async () => {
    const records = new OneJob(jobId, undefined);
    const answer = await new JobStatusService(records, 3600).status(jobId, undefined);
    expect(answer.status).to.equal('completed');
    expect(records.reads).to.deep.equal([`job ${jobId}`]);
  });
});
