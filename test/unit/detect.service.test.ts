import { expect } from 'chai';
import type { DetectQueueRepository } from '../../api/repositories/detect-queue.repository.js';
import type { JobOutcome } from '../../api/repositories/job-records.js';
import { DetectService, type DetectServiceOptions } from '../../api/services/detect.service.js';
import { parseDetectRequest, type DetectRequest } from '../../api/validation/detect-request.schema.js';
import type { DetectJobData, QueueKind } from '../../shared/contract/detect-job.contract.js';
import type { AppError } from '../../shared/errors/app-error.js';
import {
  InvalidRequestError,
  QueueUnavailableError,
  UnsupportedMediaError,
  URL_REFUSALS,
} from '../../shared/errors/errors.js';
import type { UrlGuard } from '../../shared/net/url-guard.js';
import type { MediaBlobRepository } from '../../shared/queue/media-blob.repository.js';
import { noFaces } from '../support/fake-pictures.js';

/** A queue that answers each job with `outcome`, recording what was submitted and with which wait. */
class FakeQueue implements Pick<DetectQueueRepository, 'submit' | 'waitingCount'> {
  readonly submitted: { kind: QueueKind; jobId: string; data: DetectJobData; waitMs: number }[] = [];
  waiting = 0;

  constructor(private readonly outcome: JobOutcome) {}

  submit(kind: QueueKind, jobId: string, data: DetectJobData, waitMs: number): Promise<JobOutcome> {
    this.submitted.push({ kind, jobId, data, waitMs });
    return Promise.resolve(this.outcome);
  }

  waitingCount(): Promise<number> {
    return Promise.resolve(this.waiting);
  }
}

class FakeBlobs implements Pick<MediaBlobRepository, 'put'> {
  readonly parked: { bytes: Buffer; ttlS: number }[] = [];

  put(bytes: Buffer, ttlS: number): Promise<string> {
    this.parked.push({ bytes, ttlS });
    return Promise.resolve(`blob-${this.parked.length}`);
  }
}

/** Refuses the URLs it is given, as the real guard refuses non-public addresses. */
class FakeGuard implements Pick<UrlGuard, 'check'> {
  readonly checked: { field: string; url: string }[] = [];

  constructor(private readonly refused: string[] = []) {}

  check(field: string, url: string): Promise<void> {
    this.checked.push({ field, url });
    return this.refused.includes(url)
      ? Promise.reject(new InvalidRequestError(`${field}: ${URL_REFUSALS.address}`))
      : Promise.resolve();
  }
}

const OPTIONS: DetectServiceOptions = {
  syncTimeoutMs: 7000,
  maxImageBytes: 1000,
  blobTtlS: 60,
  maxQueueDepth: 5,
  autoRotate: true,
};
const SUBMITTER = { requestId: 'req-1', owner: 'tenant-a', publicBase: 'https://faces.example' };
/** A 1×1 PNG: file-type reads a PNG's chunks, so it takes a real one. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const MP4 = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypisom'), Buffer.alloc(20)]);
const COMPLETED: JobOutcome = {
  state: 'completed',
  result: { faces_obj: { '0': noFaces(null) }, media: 'image', worker: 'w:1' },
};

function setUp(outcome: JobOutcome = COMPLETED, refused: string[] = []) {
  const queue = new FakeQueue(outcome);
  const blobs = new FakeBlobs();
  const guard = new FakeGuard(refused);
  return { queue, blobs, guard, service: new DetectService(queue, blobs, guard, OPTIONS) };
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  return promise.then(
    () => expect.fail('expected a refusal'),
    (err: AppError) => err,
  );
}

const request = (body: object): DetectRequest => parseDetectRequest(body);

describe('DetectService', () => {
  it('when a sync job completes within the budget, then the answer is 200 with its faces', async () => {
    const { queue, service } = setUp();
    const answer = await service.detect(request({ url: 'https://media.example/a.jpg' }), SUBMITTER);
    expect(answer.status).to.equal(200);
    const [job] = queue.submitted;
    expect(answer.body).to.deep.equal({
      error_code: 0,
      error_msg: 'SUCCESS',
      job_id: job!.jobId,
      faces_obj: { '0': noFaces(null) },
      tracks: null,
    });
    expect(job!.waitMs).to.equal(OPTIONS.syncTimeoutMs);
  });

  it('when a URL is submitted, then the job records its source, options, submitter and lane by extension', async () => {
    const { queue, service } = setUp({ state: 'pending' });
    await service.detect(
      request({
        url: 'https://media.example/clip.mp4',
        num_frames: 3,
        callback_url: 'https://hooks.example/x',
      }),
      SUBMITTER,
    );
    const [job] = queue.submitted;
    expect(job!.kind).to.equal('video');
    expect(job!.data).to.deep.include({
      source: { kind: 'url', url: 'https://media.example/clip.mp4' },
      requestId: 'req-1',
      owner: 'tenant-a',
      publicBase: 'https://faces.example',
      callbackUrl: 'https://hooks.example/x',
    });
    expect(job!.data.options).to.include({ numFrames: 3, autoRotate: true });
  });

  it('when face_select is sent, then the job keeps one face by that rule; single_face alone names no rule', async () => {
    const { queue, service } = setUp();
    await service.detect(
      request({ url: 'https://media.example/a.jpg', face_select: 'center_largest' }),
      SUBMITTER,
    );
    await service.detect(request({ url: 'https://media.example/a.jpg', single_face: true }), SUBMITTER);
    const [chosen, single] = queue.submitted.map((job) => job.data.options);
    expect(chosen).to.include({ singleFace: true, faceSelect: 'center_largest' });
    expect(single).to.include({ singleFace: true });
    expect(single).to.not.have.property('faceSelect');
  });

  it('when auto_rotate is set by the request, then it overrides the deployment default', async () => {
    const { queue, service } = setUp();
    await service.detect(request({ url: 'https://media.example/a.jpg', auto_rotate: false }), SUBMITTER);
    expect(queue.submitted[0]!.data.options.autoRotate).to.equal(false);
  });

  it('when the request is async or outlasts the budget, then the answer is 202 with the poll URL', async () => {
    const { queue, service } = setUp({ state: 'pending' });
    const answer = await service.detect(
      request({ url: 'https://media.example/a.jpg', async: true }),
      SUBMITTER,
    );
    const { jobId, waitMs } = queue.submitted[0]!;
    expect(waitMs).to.equal(0);
    expect(answer).to.deep.equal({
      status: 202,
      body: {
        error_code: 0,
        error_msg: 'PENDING',
        job_id: jobId,
        status_url: `https://faces.example/jobs/${jobId}`,
      },
    });
  });

  it('when the job fails within the budget, then its error is the answer', async () => {
    const error = new UnsupportedMediaError('not an image');
    const { service } = setUp({ state: 'failed', error });
    expect(
      await refusal(service.detect(request({ url: 'https://media.example/a.jpg' }), SUBMITTER)),
    ).to.equal(error);
  });

  it('when img holds an image, then its bytes are parked with the blob TTL and the job points at them', async () => {
    const { queue, blobs, service } = setUp();
    await service.detect(request({ img: PNG.toString('base64') }), SUBMITTER);
    expect(blobs.parked).to.deep.equal([{ bytes: PNG, ttlS: OPTIONS.blobTtlS }]);
    expect(queue.submitted[0]!.kind).to.equal('image');
    expect(queue.submitted[0]!.data.source).to.deep.equal({ kind: 'blob', key: 'blob-1', bytes: PNG.length });
  });

  it('when img holds a video, then it is refused with a 400 and nothing is parked or queued', async () => {
    const { queue, blobs, service } = setUp();
    const err = await refusal(service.detect(request({ img: MP4.toString('base64') }), SUBMITTER));
    expect(err).to.be.instanceOf(InvalidRequestError);
    expect(err.message).to.match(/videos are accepted by 'url' only/);
    expect(blobs.parked).to.deep.equal([]);
    expect(queue.submitted).to.deep.equal([]);
  });

  it("when img's data URI declares another format than its bytes, then it is refused with a 415", async () => {
    const { service } = setUp();
    const err = await refusal(
      service.detect(request({ img: `data:image/jpeg;base64,${PNG.toString('base64')}` }), SUBMITTER),
    );
    expect(err).to.be.instanceOf(UnsupportedMediaError);
    expect(err.message).to.equal(
      "'img' declares image/jpeg but holds png data; fix the data URI's type or send plain base64",
    );
  });

  it('when the queue is full, then the request is refused with a 503 to retry after 10 s, and nothing is parked', async () => {
    const { queue, blobs, service } = setUp();
    queue.waiting = OPTIONS.maxQueueDepth;
    const err = await refusal(service.detect(request({ img: PNG.toString('base64') }), SUBMITTER));
    expect(err).to.be.instanceOf(QueueUnavailableError);
    expect(err.retryAfterS).to.equal(10);
    expect(err.httpStatus).to.equal(503);
    expect(blobs.parked).to.deep.equal([]);
    expect(queue.submitted).to.deep.equal([]);
  });

  it('when the callback URL is refused by the guard, then the request is refused before anything is queued', async () => {
    const { queue, guard, service } = setUp(COMPLETED, ['http://10.0.0.1/hook']);
    const err = await refusal(
      service.detect(
        request({ url: 'https://media.example/a.jpg', callback_url: 'http://10.0.0.1/hook' }),
        SUBMITTER,
      ),
    );
    expect(err.message).to.equal(`callback_url: ${URL_REFUSALS.address}`);
    expect(guard.checked).to.deep.equal([{ field: 'callback_url', url: 'http://10.0.0.1/hook' }]);
    expect(queue.submitted).to.deep.equal([]);
  });
});
