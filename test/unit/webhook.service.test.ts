import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import type { BatchItem, FacesObj } from '../../shared/contract/api-contract.js';
import type {
  BatchMembership,
  DetectOptions,
  WebhookJobData,
} from '../../shared/contract/detect-job.contract.js';
import type { BatchFinisher } from '../../shared/batch/batch-finisher.js';
import { CallbackRejectedError, UnsupportedMediaError } from '../../shared/errors/errors.js';
import type { WebhookPoster } from '../../worker/fetch/webhook-poster.js';
import type { DetectJob } from '../../worker/queue/detect-worker.repository.js';
import type { WebhookQueueRepository } from '../../worker/queue/webhook-queue.repository.js';
import { WebhookService } from '../../worker/services/webhook.service.js';
import { noFaces } from '../support/fake-pictures.js';

const options: DetectOptions = {
  numFrames: 1,
  singleFace: false,
  returnFaceUrl: true,
  expandRatio: 0.3,
  autoRotate: false,
  minFaceSize: 0,
};

class RecordingQueue implements Pick<WebhookQueueRepository, 'enqueue'> {
  readonly queued: WebhookJobData[] = [];

  enqueue(data: WebhookJobData): Promise<void> {
    this.queued.push(data);
    return Promise.resolve();
  }
}

/** Answers every POST with `status`, recording what was sent. */
class RecordingPoster implements Pick<WebhookPoster, 'postJson'> {
  readonly posts: { url: string; json: string; headers: Record<string, string> }[] = [];

  constructor(private readonly status = 204) {}

  postJson(url: string, json: string, headers: Record<string, string>): Promise<{ status: number }> {
    this.posts.push({ url, json, headers });
    return Promise.resolve({ status: this.status });
  }
}

class RecordingBatches implements Pick<BatchFinisher, 'itemFinal'> {
  readonly recorded: { batch: BatchMembership; item: BatchItem }[] = [];

  itemFinal(batch: BatchMembership, item: BatchItem): Promise<void> {
    this.recorded.push({ batch, item });
    return Promise.resolve();
  }
}

function webhookService(
  queue: RecordingQueue,
  poster: RecordingPoster,
  secret: string | undefined,
  batches = new RecordingBatches(),
): WebhookService {
  return new WebhookService(queue, poster, secret, batches);
}

function job(callbackUrl: string | undefined, publicBase?: string): DetectJob {
  return {
    id: 'i-job',
    kind: 'image',
    data: {
      source: { kind: 'url', url: 'https://media.example/a.jpg' },
      options,
      requestId: 'r',
      callbackUrl,
      publicBase,
    },
    updateProgress: () => Promise.resolve(),
  };
}

const croppedFrame: FacesObj = {
  '0': { ...noFaces(null), face_urls: ['/crops/i-job/0.jpg', 'https://bucket.example/1.jpg'] },
};

describe('WebhookService', () => {
  describe('onJobFinal', () => {
    it('when a job that asked for a callback completes, then its answer is queued with absolute crop links', async () => {
      const queue = new RecordingQueue();
      await webhookService(queue, new RecordingPoster(), undefined).onJobFinal(
        job('https://hooks.example/done', 'https://faces.example'),
        { result: { faces_obj: croppedFrame, media: 'image', worker: 'w:1' } },
      );
      expect(queue.queued).to.have.length(1);
      const [queued] = queue.queued;
      expect(queued!.url).to.equal('https://hooks.example/done');
      expect(queued!.jobId).to.equal('i-job');
      expect(JSON.parse(queued!.body)).to.deep.equal({
        error_code: 0,
        error_msg: 'SUCCESS',
        job_id: 'i-job',
        faces_obj: {
          '0': {
            ...croppedFrame['0'],
            face_urls: ['https://faces.example/crops/i-job/0.jpg', 'https://bucket.example/1.jpg'],
          },
        },
        tracks: null,
      });
    });

    it('when a job that asked for a callback fails, then the error answer is queued with empty faces', async () => {
      const queue = new RecordingQueue();
      const error = new UnsupportedMediaError('not an image');
      await webhookService(queue, new RecordingPoster(), undefined).onJobFinal(
        job('https://hooks.example/x'),
        {
          error,
        },
      );
      expect(JSON.parse(queue.queued[0]!.body)).to.deep.equal({
        error_code: 1,
        error_msg: 'not an image',
        job_id: 'i-job',
        faces_obj: {},
      });
    });

    it('when an item of a callback batch ends, then its answer is recorded under the batch with absolute links, and nothing is queued for it alone', async () => {
      const queue = new RecordingQueue();
      const batches = new RecordingBatches();
      const batch = { id: 'b-1', index: 2, total: 3, callbackUrl: 'https://hooks.example/b' };
      const item = {
        ...job(undefined, 'https://faces.example'),
        data: { ...job(undefined, 'https://faces.example').data, batch },
      };
      const service = webhookService(queue, new RecordingPoster(), undefined, batches);
      await service.onJobFinal(item, { result: { faces_obj: croppedFrame, media: 'image', worker: 'w:1' } });
      await service.onJobFinal(item, { error: new UnsupportedMediaError('not an image') });
      expect(queue.queued).to.deep.equal([]);
      expect(batches.recorded.map((r) => r.batch)).to.deep.equal([batch, batch]);
      expect(batches.recorded[0]!.item).to.deep.equal({
        status: 200,
        error_code: 0,
        error_msg: 'SUCCESS',
        faces_obj: {
          '0': {
            ...croppedFrame['0'],
            face_urls: ['https://faces.example/crops/i-job/0.jpg', 'https://bucket.example/1.jpg'],
          },
        },
        tracks: null,
      });
      expect(batches.recorded[1]!.item).to.deep.equal({
        status: 422,
        error_code: 1,
        error_msg: 'not an image',
        faces_obj: {},
        tracks: null,
      });
    });

    it('when a job asked for no callback, then nothing is queued', async () => {
      const queue = new RecordingQueue();
      await webhookService(queue, new RecordingPoster(), 'secret').onJobFinal(job(undefined), {
        result: { faces_obj: {}, media: 'image', worker: 'w:1' },
      });
      expect(queue.queued).to.deep.equal([]);
    });
  });

  describe('deliver', () => {
    const delivery: WebhookJobData = { url: 'https://hooks.example/done', jobId: 'i-job', body: '{"a":1}' };

    it('when a secret is set, then the exact queued body is posted with its HMAC-SHA256 in X-Signature', async () => {
      const poster = new RecordingPoster();
      await webhookService(new RecordingQueue(), poster, 's3cret').deliver(delivery);
      expect(poster.posts).to.have.length(1);
      const [post] = poster.posts;
      expect(post!.url).to.equal(delivery.url);
      expect(post!.json).to.equal(delivery.body);
      // What a receiver computes from the raw body and the shared secret.
      const expected = createHmac('sha256', 's3cret').update(post!.json).digest('hex');
      expect(post!.headers['x-signature']).to.equal(`sha256=${expected}`);
      expect(post!.headers['user-agent']).to.equal('facedetect-webhook');
    });

    it('when no secret is set, then the body is posted unsigned', async () => {
      const poster = new RecordingPoster();
      await webhookService(new RecordingQueue(), poster, undefined).deliver(delivery);
      expect(poster.posts[0]!.headers).to.not.have.property('x-signature');
    });

    it('when the receiver answers other than 2xx, then delivery fails with a retryable CALLBACK_REJECTED', async () => {
      for (const status of [199, 302, 404, 500]) {
        const err: unknown = await webhookService(new RecordingQueue(), new RecordingPoster(status), 'k')
          .deliver(delivery)
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(err, `HTTP ${status}`).to.be.instanceOf(CallbackRejectedError);
        expect((err as CallbackRejectedError).retryable).to.equal(true);
        expect((err as CallbackRejectedError).message).to.equal(`callback answered HTTP ${status}`);
      }
    });

    it('when the receiver answers any 2xx, then delivery succeeds', async () => {
      for (const status of [200, 202, 299]) {
        await webhookService(new RecordingQueue(), new RecordingPoster(status), 'k').deliver(delivery);
      }
    });
  });
});
