import { expect } from 'chai';
import type { DetectJobResult, QueueKind } from '../../shared/contract/detect-job.contract.js';
import { QueueFullError, WorkerLostError } from '../../shared/errors/errors.js';
import { linkedJobId } from '../../shared/queue/job-id.js';
import type { JobSnapshot } from '../../api/repositories/job-records.js';
import { JobWaiters } from '../../api/repositories/job-waiters.js';

const ORIGINAL = 'i-0123456789abcdef';
const MOVED = linkedJobId(ORIGINAL);
const RESULT: DetectJobResult = { faces_obj: {}, tracks: [], media: 'video', worker: 'host:1' };

/** The queues as `find` reads them: the job a client knows by id, or the one it moved to. */
class FakeJobs {
  readonly asked: [string, QueueKind][] = [];
  constructor(public snapshot: JobSnapshot | undefined) {}

  find = (jobId: string, kind: QueueKind): Promise<JobSnapshot | undefined> => {
    this.asked.push([jobId, kind]);
    return Promise.resolve(this.snapshot);
  };
}

const movedJob = (state: JobSnapshot['state']): JobSnapshot => ({
  state,
  progress: null,
  owner: undefined,
  movedFrom: ORIGINAL,
  ...(state === 'completed' ? { result: RESULT } : {}),
});

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('JobWaiters: a sync request waits on its job', () => {
  it('when the job completes, then the request gets its result', async () => {
    const waiters = new JobWaiters(new FakeJobs(undefined).find);
    const outcome = waiters.wait('image', ORIGINAL, 5000, () => Promise.resolve());
    await tick();
    waiters.completed(ORIGINAL, RESULT);
    expect(await outcome).to.deep.equal({ state: 'completed', result: RESULT });
  });

  it('when the job moves lanes, then the request gets the moved job’s result, not the move', async () => {
    const waiters = new JobWaiters(new FakeJobs(movedJob('active')).find);
    const outcome = waiters.wait('image', ORIGINAL, 5000, () => Promise.resolve());
    await tick();
    waiters.completed(ORIGINAL, { movedTo: MOVED });
    waiters.completed(MOVED, RESULT);
    expect(await outcome).to.deep.equal({ state: 'completed', result: RESULT });
  });

  it('when the job fails before it moved (its new lane full), then the request gets that failure', async () => {
    const error = new QueueFullError('video', 1, 1);
    const jobs = new FakeJobs({ state: 'failed', progress: null, owner: undefined, error });
    const waiters = new JobWaiters(jobs.find);
    const outcome = waiters.wait('image', ORIGINAL, 5000, () => Promise.resolve());
    await tick();
    waiters.failed(ORIGINAL, error);
    expect(await outcome).to.deep.equal({ state: 'failed', error });
  });

  it('when the moved job fails, then the request gets its failure', async () => {
    const waiters = new JobWaiters(new FakeJobs(movedJob('failed')).find);
    const outcome = waiters.wait('image', ORIGINAL, 5000, () => Promise.resolve());
    await tick();
    const error = new WorkerLostError();
    waiters.failed(MOVED, error);
    expect(await outcome).to.deep.equal({ state: 'failed', error });
  });

  it('when the original fails after it moved (stalled twice) while the moved job runs, then the request waits for the moved job’s answer', async () => {
    const jobs = new FakeJobs(movedJob('active'));
    const waiters = new JobWaiters(jobs.find);
    const outcome = waiters.wait('image', ORIGINAL, 5000, () => Promise.resolve());
    await tick();
    waiters.completed(ORIGINAL, { movedTo: MOVED });
    // BullMQ reruns the stalled original, its worker is lost again, and BullMQ fails it.
    waiters.failed(ORIGINAL, new WorkerLostError());
    await tick();
    waiters.completed(MOVED, RESULT);
    expect(await outcome).to.deep.equal({ state: 'completed', result: RESULT });
    expect(jobs.asked).to.deep.include([ORIGINAL, 'image']);
  });

  it('when the original fails after it moved and the moved job has finished, then the request gets the moved job’s answer', async () => {
    const waiters = new JobWaiters(new FakeJobs(movedJob('completed')).find);
    const outcome = waiters.wait('image', ORIGINAL, 5000, () => Promise.resolve());
    await tick();
    waiters.failed(ORIGINAL, new WorkerLostError());
    expect(await outcome).to.deep.equal({ state: 'completed', result: RESULT });
  });

  it('when the original fails and whether it moved cannot be read, then the request is answered pending at the end of its wait', async () => {
    const jobs = new FakeJobs(undefined);
    jobs.find = () => Promise.reject(new Error('Redis down'));
    const waiters = new JobWaiters(jobs.find);
    const outcome = waiters.wait('image', ORIGINAL, 50, () => Promise.resolve());
    await tick();
    waiters.failed(ORIGINAL, new WorkerLostError());
    expect(await outcome).to.deep.equal({ state: 'pending' });
  });

  it('when no answer comes in time, then the request is pending unless a last look finds the job done', async () => {
    const jobs = new FakeJobs(undefined);
    const waiters = new JobWaiters(jobs.find);
    expect(await waiters.wait('video', ORIGINAL, 10, () => Promise.resolve())).to.deep.equal({
      state: 'pending',
    });
    jobs.snapshot = movedJob('completed');
    expect(await waiters.wait('video', ORIGINAL, 10, () => Promise.resolve())).to.deep.equal({
      state: 'completed',
      result: RESULT,
    });
  });

  it('when adding the job fails, then the wait rejects and no waiter stays behind', async () => {
    const waiters = new JobWaiters(new FakeJobs(undefined).find);
    const refused = new Error('Redis down');
    const outcome = waiters.wait('image', ORIGINAL, 5000, () => Promise.reject(refused));
    await outcome.then(
      () => expect.fail('expected the wait to reject'),
      (err: unknown) => expect(err).to.equal(refused),
    );
    expect(waiters.has(ORIGINAL)).to.equal(false);
    expect(waiters.has(MOVED)).to.equal(false);
  });

  it('when the gateway closes, then every waiting request is answered pending', async () => {
    const waiters = new JobWaiters(new FakeJobs(undefined).find);
    const outcome = waiters.wait('image', ORIGINAL, 5000, () => Promise.resolve());
    await tick();
    waiters.close();
    expect(await outcome).to.deep.equal({ state: 'pending' });
  });
});
