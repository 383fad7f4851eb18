import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Job, Queue } from 'bullmq';
import { QUEUES, type QueueKind } from '../../shared/contract/detect-job.contract.js';
import { linkedJobId } from '../../shared/queue/job-id.js';
import { createRedis, type RedisClient } from '../../shared/queue/redis-connection.js';
import { image } from '../support/fixtures.js';
import { startFixtureServer, type FixtureServer } from '../support/http-fixture-server.js';
import { serveFilesWithRanges } from '../support/range-file-server.js';
import { getJson, postJson, startService, type TestService } from '../support/service.js';
import { CLIP, ffmpeg } from '../support/video-fixtures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The BullMQ queues of a service under test, to see which lane a job ran in. */
class Lanes {
  private readonly redis: RedisClient;
  private readonly queues: Record<QueueKind, Queue>;

  constructor(svc: TestService) {
    this.redis = createRedis(svc.config.redis, 'gateway', 'lanes-test');
    const queue = (kind: QueueKind) =>
      new Queue(QUEUES[kind], { connection: this.redis, prefix: svc.config.queuePrefix });
    this.queues = { image: queue('image'), video: queue('video') };
  }

  job(kind: QueueKind, id: string): Promise<Job | undefined> {
    return Job.fromId(this.queues[kind], id);
  }

  /** The lane whose job of `clientId` (itself or its linked id) holds the result, and that job. */
  async ranIn(clientId: string): Promise<{ lane: QueueKind; job: Job }> {
    for (const lane of ['image', 'video'] as const) {
      for (const id of [clientId, linkedJobId(clientId)]) {
        const job = await this.job(lane, id);
        if (job?.returnvalue?.media) return { lane, job };
      }
    }
    return expect.fail(`no lane holds a result for ${clientId}`);
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
    this.redis.disconnect();
  }
}

async function settled(statusUrl: string, headers: Record<string, string> = {}): Promise<any> {
  for (let i = 0; i < 500; i++) {
    const poll = (await getJson(statusUrl, headers)).body;
    if (poll.status === 'completed' || poll.status === 'failed') return poll;
    await sleep(20);
  }
  return expect.fail(`${statusUrl} did not finish`);
}

describe('lanes follow the bytes, whatever the URL looks like', function () {
  this.timeout(120_000);
  let dir: string;
  let origin: FixtureServer & { stats: { requests: Map<string, number> } };
  let wholeOrigin: FixtureServer;
  let hookServer: FixtureServer;
  const hooks: any[] = [];
  let svc: TestService;
  let lanes: Lanes;
  let reference: any;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'facedetect-lanes-test-'));
    await ffmpeg('-stream_loop', '65', '-i', CLIP, '-c', 'copy', path.join(dir, 'long.mp4'));
    const photo = image('obama.jpg');
    // Misleading types throughout: the bytes are what count.
    const files = {
      '/clip.mp4': { file: CLIP, type: 'video/mp4' },
      '/media/clip': { file: CLIP, type: 'image/jpeg' },
      '/trailer.jpg': { file: CLIP, type: 'image/jpeg' },
      '/media/photo': { file: photo, type: 'video/mp4' },
      '/still.mp4': { file: photo, type: 'video/mp4' },
      '/long.mp4': { file: path.join(dir, 'long.mp4'), type: 'video/mp4' },
    };
    origin = await serveFilesWithRanges(files);
    wholeOrigin = await serveFilesWithRanges(files, { ranges: false });
    hookServer = await startFixtureServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hooks.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    svc = await startService({ VIDEO_CONCURRENCY: '1' });
    lanes = new Lanes(svc);
    reference = (await postJson(`${svc.url}/detect`, { url: `${origin.url}/clip.mp4`, num_frames: 5 })).body;
    expect(reference.job_id).to.match(/^v-/);
  });

  after(async () => {
    await lanes.close();
    await svc.stop();
    await Promise.all([origin.close(), wholeOrigin.close(), hookServer.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  const detect = (body: object) => postJson(`${svc.url}/detect`, body);

  for (const [name, url] of [
    ['has no extension', () => `${origin.url}/media/clip`],
    ['ends in .jpg', () => `${origin.url}/trailer.jpg`],
    ['has no extension and its origin ignores Range', () => `${wholeOrigin.url}/media/clip`],
  ] as const) {
    it(`when a video's URL ${name}, then it runs in the video lane and answers what its .mp4 URL does`, async () => {
      const { status, body } = await detect({ url: url(), num_frames: 5 });
      expect(status, body.error_msg).to.equal(200);
      expect(body.job_id).to.match(/^i-/);
      expect(body.faces_obj).to.deep.equal(reference.faces_obj);
      const { lane, job } = await lanes.ranIn(body.job_id);
      expect(lane).to.equal('video');
      expect(job.id).to.equal(linkedJobId(body.job_id));
      expect((await lanes.job('image', body.job_id))?.returnvalue).to.deep.equal({ movedTo: job.id });
    });
  }

  it('when a .mp4 URL holds a photo, then it runs in the image lane', async () => {
    const photo = (await detect({ url: `${origin.url}/media/photo` })).body;
    const { status, body } = await detect({ url: `${origin.url}/still.mp4` });
    expect(status, body.error_msg).to.equal(200);
    expect(body.job_id).to.match(/^v-/);
    expect(body.faces_obj).to.deep.equal(photo.faces_obj);
    expect((await lanes.ranIn(body.job_id)).lane).to.equal('image');
    expect((await lanes.ranIn(photo.job_id)).lane).to.equal('image');
  });

  it('when a moved video is sent async with a callback, then the poll and the callback answer under the id the client got', async () => {
    const { status, body } = await detect({
      url: `${origin.url}/media/clip`,
      num_frames: 5,
      async: true,
      callback_url: `${hookServer.url}/hook`,
    });
    expect(status).to.equal(202);
    const final = await settled(body.status_url);
    expect(final.status).to.equal('completed');
    expect(final.job_id).to.equal(body.job_id);
    expect(final.progress).to.deep.equal({ frames_done: 5, frames_total: 5 });
    expect(final.result).to.deep.equal({ ...reference, job_id: body.job_id });
    expect((await lanes.ranIn(body.job_id)).lane).to.equal('video');
    for (let i = 0; i < 100 && hooks.length === 0; i++) await sleep(50);
    expect(hooks).to.deep.equal([final.result]);
  });

  it('when the video lane is busy, then a moved video waits there and an extension-less photo is answered at once', async () => {
    const long = (await detect({ url: `${origin.url}/long.mp4`, num_frames: 100, async: true })).body;
    for (let i = 0; i < 200 && (await getJson(long.status_url)).body.status !== 'active'; i++)
      await sleep(20);
    const moved = (await detect({ url: `${origin.url}/media/clip`, num_frames: 5, async: true })).body;
    let there: Job | undefined;
    for (let i = 0; i < 200 && !there; i++) {
      there = await lanes.job('video', linkedJobId(moved.job_id));
      if (!there) await sleep(20);
    }
    expect(there, 'the video was moved to the video lane').to.not.equal(undefined);
    expect(await there!.getState()).to.equal('waiting');
    expect((await getJson(moved.status_url)).body.status).to.equal('waiting');

    const photo = await detect({ url: `${origin.url}/media/photo` });
    expect(photo.status).to.equal(200);
    expect(photo.body.faces_obj['0'].region).to.have.length(1);
    expect((await getJson(long.status_url)).body.status, 'the long video still runs').to.equal('active');
    expect((await getJson(moved.status_url)).body.status, 'the moved video still waits').to.equal('waiting');
  });
});

describe('a job that moved lanes stays its owner’s', function () {
  this.timeout(60_000);
  let origin: FixtureServer;
  let svc: TestService;
  let lanes: Lanes;
  const as = (key: string) => ({ authorization: `Bearer ${key}` });

  before(async () => {
    origin = await serveFilesWithRanges({ '/media/clip': { file: CLIP, type: 'image/jpeg' } });
    svc = await startService({ API_KEYS: 'lanes-key-a-0123456789,lanes-key-b-0123456789' });
    lanes = new Lanes(svc);
  });
  after(async () => {
    await lanes.close();
    await svc.stop();
    await origin.close();
  });

  it('when another key polls a moved job, then it gets 404 while its owner gets the result', async () => {
    const { body } = await postJson(
      `${svc.url}/detect`,
      { url: `${origin.url}/media/clip`, num_frames: 2, async: true },
      as('lanes-key-a-0123456789'),
    );
    const final = await settled(body.status_url, as('lanes-key-a-0123456789'));
    expect(final.status).to.equal('completed');
    expect(Object.keys(final.result.faces_obj)).to.have.length(2);
    expect((await lanes.ranIn(body.job_id)).lane).to.equal('video');
    for (const id of [body.job_id, linkedJobId(body.job_id)]) {
      const other = await getJson(`${svc.url}/jobs/${id}`, as('lanes-key-b-0123456789'));
      expect(other.status, id).to.equal(404);
    }
  });
});

describe('a job that moves lanes respects the depth of the lane it moves to', function () {
  this.timeout(60_000);
  let origin: FixtureServer;
  let svc: TestService;
  let redis: RedisClient;
  let imageLane: Queue;
  let video: Queue;

  before(async () => {
    origin = await serveFilesWithRanges({
      '/clip.mp4': { file: CLIP, type: 'video/mp4' },
      '/trailer.jpg': { file: CLIP, type: 'image/jpeg' },
    });
    svc = await startService({ MAX_QUEUE_DEPTH: '1', SYNC_TIMEOUT_MS: '10000' });
    redis = createRedis(svc.config.redis, 'gateway', 'lanes-depth-test');
    imageLane = new Queue(QUEUES.image, { connection: redis, prefix: svc.config.queuePrefix });
    video = new Queue(QUEUES.video, { connection: redis, prefix: svc.config.queuePrefix });
    // A paused lane keeps its jobs waiting, and BullMQ counts them as waiting: the video lane is full.
    await video.pause();
  });
  after(async () => {
    await Promise.all([imageLane.close(), video.close()]);
    redis.disconnect();
    await svc.stop();
    await origin.close();
  });

  it('when the video lane is full and a .jpg URL serves a video, then the client gets 503 and the lane does not grow', async () => {
    const queued = await postJson(`${svc.url}/detect`, { url: `${origin.url}/clip.mp4`, async: true });
    expect(queued.status).to.equal(202);
    expect(await video.getWaitingCount()).to.equal(1);

    const { status, body } = await postJson(`${svc.url}/detect`, { url: `${origin.url}/trailer.jpg` });
    expect(status, body.error_msg).to.equal(503);
    expect(body.error_msg).to.match(
      /^The video queue is full: 1 jobs are waiting, the limit is 1 \(MAX_QUEUE_DEPTH\)/,
    );
    expect(await video.getWaitingCount()).to.equal(1);
  });

  it("when the video lane is full, then the worker's 503 for a .jpg URL that serves a video carries the Retry-After of the gateway's own 503", async () => {
    const own = await postJson(`${svc.url}/detect`, { url: `${origin.url}/clip.mp4` });
    expect(own.status, own.body.error_msg).to.equal(503);
    expect(own.headers.get('retry-after')).to.equal('10');
    const fromWorker = await postJson(`${svc.url}/detect`, { url: `${origin.url}/trailer.jpg` });
    expect(fromWorker.status, fromWorker.body.error_msg).to.equal(503);
    expect(fromWorker.headers.get('retry-after')).to.equal('10');
  });

  it('when the video lane is full and an async .jpg URL serves a video, then its job fails with the same answer, not retried', async () => {
    const { status, body } = await postJson(`${svc.url}/detect`, {
      url: `${origin.url}/trailer.jpg`,
      async: true,
    });
    expect(status).to.equal(202);
    const final = await settled(body.status_url);
    expect(final.status).to.equal('failed');
    expect(final.error_msg).to.match(/^The video queue is full: 1 jobs are waiting/);
    const job = await Job.fromId(imageLane, body.job_id);
    expect(job?.attemptsMade).to.equal(1);
    expect(await video.getWaitingCount()).to.equal(1);
  });
});

describe('an original that runs again after it moved lanes (its worker lost before it ended)', function () {
  this.timeout(60_000);
  const files: Record<string, { file: string; type: string }> = {
    '/media/changing': { file: CLIP, type: 'image/jpeg' },
  };
  let origin: FixtureServer & { stats: { requests: Map<string, number> } };
  let svc: TestService;
  let redis: RedisClient;
  let imageLane: Queue;

  before(async () => {
    origin = await serveFilesWithRanges(files);
    svc = await startService();
    redis = createRedis(svc.config.redis, 'gateway', 'lanes-rerun-test');
    imageLane = new Queue(QUEUES.image, { connection: redis, prefix: svc.config.queuePrefix });
  });
  after(async () => {
    await imageLane.close();
    redis.disconnect();
    await svc.stop();
    await origin.close();
  });

  /** A moved video's answer, and its original queued again as BullMQ reruns a stalled job. */
  async function movedThenRequeued(name: string) {
    const { status, body } = await postJson(`${svc.url}/detect`, {
      url: `${origin.url}/media/changing`,
      num_frames: 2,
    });
    expect(status, body.error_msg).to.equal(200);
    const original = (await Job.fromId(imageLane, body.job_id))!;
    expect(original.returnvalue).to.deep.equal({ movedTo: linkedJobId(body.job_id) });
    await original.remove();
    // The origin now serves a photo: a rerun that fetched again would run as an image.
    files['/media/changing'] = { file: image('obama.jpg'), type: 'image/jpeg' };
    const fetched = origin.stats.requests.get('/media/changing');
    const again = await imageLane.add(name, original.data, { jobId: body.job_id });
    for (let i = 0; i < 250 && !(await again.isCompleted()) && !(await again.isFailed()); i++)
      await sleep(20);
    return { answer: body, again: (await Job.fromId(imageLane, body.job_id))!, fetched };
  }

  it('when the original runs again, then it ends as moved without fetching, and the poll answers the moved result', async () => {
    const { answer, again, fetched } = await movedThenRequeued('detect');
    expect(again.returnvalue).to.deep.equal({ movedTo: linkedJobId(answer.job_id) });
    expect(origin.stats.requests.get('/media/changing')).to.equal(fetched);
    const poll = (await getJson(`${svc.url}/jobs/${answer.job_id}`)).body;
    expect(poll.status).to.equal('completed');
    expect(poll.result.faces_obj).to.deep.equal(answer.faces_obj);
  });

  it('when the original fails on its rerun, then the poll still answers the moved result', async () => {
    files['/media/changing'] = { file: CLIP, type: 'image/jpeg' };
    // A job the worker refuses at once stands for one that failed as stalled.
    const { answer, again } = await movedThenRequeued('not-a-detect-job');
    expect(await again.isFailed()).to.equal(true);
    const poll = (await getJson(`${svc.url}/jobs/${answer.job_id}`)).body;
    expect(poll.status).to.equal('completed');
    expect(poll.result.faces_obj).to.deep.equal(answer.faces_obj);
  });
});
