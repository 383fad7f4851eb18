import { readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import { Job, Queue } from 'bullmq';
import { QUEUES, type QueueKind } from '../../shared/contract/detect-job.contract.js';
import { loadConfig, type Config } from '../../shared/config/config.js';
import { createRedis } from '../../shared/queue/redis-connection.js';
import { start as startStandalone } from '../../standalone/main.js';
import { start as startWorker } from '../../worker/main.js';
import { image } from '../support/fixtures.js';
import { startFixtureServer, type FixtureServer } from '../support/http-fixture-server.js';
import { serveFilesWithRanges } from '../support/range-file-server.js';
import {
  deleteKeys,
  getJson,
  postJson,
  startService,
  testEnv,
  type TestService,
} from '../support/service.js';
import { startWorkerProcess, type LogLine, type WorkerProcess } from '../support/worker-process.js';
import { CLIP, ffmpeg, scratchDir } from '../support/video-fixtures.js';

/** Polls GET /jobs/:id until `done` holds for its answer. */
async function pollJob(statusUrl: string, done: (body: any) => boolean, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await getJson(statusUrl);
    expect(status, JSON.stringify(body)).to.equal(200);
    if (done(body)) return body;
    if (Date.now() > deadline) throw new Error(`job at ${statusUrl} is still ${body.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls the gateway's queue counts until `done` holds. */
async function pollQueue(
  svc: TestService,
  kind: QueueKind,
  done: (counts: Record<string, number>) => boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done(await svc.api.queue.jobCounts(kind))) {
    if (Date.now() > deadline) throw new Error(`the ${kind} queue did not reach the awaited state`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** BullMQ's own record of a job: how often it was started and found stalled. */
async function jobRecord(config: Config, kind: QueueKind, jobId: string) {
  const connection = createRedis(config.redis, 'worker', 'facedetect-test-records');
  const queue = new Queue(QUEUES[kind], { connection, prefix: config.queuePrefix });
  try {
    const job = await Job.fromId(queue, jobId);
    return { attemptsStarted: job?.attemptsStarted, stalledCounter: job?.stalledCounter };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/** Calls `probe` every 100 ms until `done` holds for its answer. */
async function pollUntil<T>(
  probe: () => Promise<T>,
  done: (answer: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await probe();
    if (done(answer)) return answer;
    if (Date.now() > deadline) expect.fail(`not done within ${timeoutMs} ms: ${JSON.stringify(answer)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The error code of a fresh TCP connection to `port`, or 'connected'. */
function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

const forJob = (jobId: string, msg: string) => (line: LogLine) => line.jobId === jobId && line.msg === msg;

describe('operations: shutdown, crashes, scaling, readiness', function () {
  let files: FixtureServer;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let obama: string;

  before(async () => {
    scratch = await scratchDir();
    // Sampling 100 frames across a minute of video keeps a job running for seconds: time to interrupt it.
    const long = path.join(scratch.dir, 'long.mp4');
    await ffmpeg('-stream_loop', '-1', '-i', CLIP, '-c', 'copy', '-t', '60', '-y', long);
    files = await serveFilesWithRanges({
      '/clip.mp4': { file: CLIP, type: 'video/mp4' },
      '/long.mp4': { file: long, type: 'video/mp4' },
    });
    obama = (await readFile(image('obama.jpg'))).toString('base64');
  });
  after(async () => {
    await files.close();
    await scratch.remove();
  });

  describe('gateway', () => {
    let svc: TestService;
    before(async () => {
      svc = await startService();
    });
    after(async () => svc.stop());

    it('when the gateway stops while a synchronous video request runs, then that request still gets its 200 answer, closing its connection, and new connections are refused', async () => {
      const answer = postJson(`${svc.url}/detect`, { url: `${files.url}/clip.mp4`, num_frames: 100 });
      await pollQueue(svc, 'video', (counts) => counts.active === 1);

      const stopped = svc.api.stop();
      expect(await connectOutcome(svc.api.port)).to.equal('ECONNREFUSED');
      const { status, headers, body } = await answer;
      expect(status).to.equal(200);
      expect(body.error_code).to.equal(0);
      expect(Object.keys(body.faces_obj)).to.have.length(100);
      // Closed with the answer, the connection does not hold the stop for keepAliveTimeout (5 s).
      expect(headers.get('connection')).to.equal('close');
      const answered = Date.now();
      await stopped;
      expect(Date.now() - answered).to.be.below(2000);
    });
  });

  describe('one worker process at a time', () => {
    let svc: TestService;
    const workers: WorkerProcess[] = [];
    const spawnWorker = async (name: string, env: Record<string, string> = {}) => {
      const worker = await startWorkerProcess(svc, name, env);
      workers.push(worker);
      return worker;
    };

    beforeEach(async () => {
      svc = await startService({}, { worker: false });
    });
    afterEach(async () => {
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      await svc.stop();
    });

    /** Submits a long async video job (with `extra` fields) and waits until `worker`'s handler runs it. */
    async function startVideoJob(worker: WorkerProcess, extra: object = {}) {
      const video = await postJson(`${svc.url}/detect`, {
        url: `${files.url}/long.mp4`,
        num_frames: 100,
        async: true,
        ...extra,
      });
      await pollJob(video.body.status_url, (job) => job.status === 'active');
      // Active in Redis comes a moment before the handler runs: wait until it does.
      await worker.waitForLog(forJob(video.body.job_id, 'job started'));
      return video;
    }

    it('when a worker gets SIGTERM mid-job, then it takes no new job, finishes its own once and exits 0', async () => {
      const w1 = await spawnWorker('w1');
      const video = await startVideoJob(w1);

      w1.kill('SIGTERM');
      await w1.waitForLog((line) => line.msg === 'worker stopping');
      const late = await postJson(`${svc.url}/detect`, { img: obama, async: true });
      expect(await w1.exited).to.deep.equal({ code: 0, signal: null });

      const done = await getJson(video.body.status_url);
      expect(done.body.status).to.equal('completed');
      expect(Object.keys(done.body.result.faces_obj)).to.have.length(100);
      expect((await svc.api.queue.get(video.body.job_id, 'video'))?.result?.worker).to.equal('w1');
      expect(await jobRecord(svc.config, 'video', video.body.job_id)).to.deep.equal({
        attemptsStarted: 1,
        stalledCounter: 0,
      });
      const completed = w1.logs.filter(forJob(video.body.job_id, 'job completed'));
      expect(completed).to.have.length(1);
      expect(w1.logs.indexOf(completed[0]!)).to.be.greaterThan(
        w1.logs.findIndex((line) => line.msg === 'worker stopping'),
      );
      expect((await getJson(late.body.status_url)).body.status).to.equal('waiting');
    });

    it('when a worker is killed with SIGKILL mid-job, then its job goes back to the queue and another worker completes it', async () => {
      const fast = { WORKER_LOCK_DURATION_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000' };
      const w1 = await spawnWorker('w1', fast);
      const video = await startVideoJob(w1);

      w1.kill('SIGKILL');
      expect((await w1.exited).signal).to.equal('SIGKILL');
      const w2 = await spawnWorker('w2', fast);

      const done = await pollJob(
        video.body.status_url,
        (job) => job.status !== 'active' && job.status !== 'waiting',
      );
      expect(done.status).to.equal('completed');
      expect(Object.keys(done.result.faces_obj)).to.have.length(100);
      expect((await svc.api.queue.get(video.body.job_id, 'video'))?.result?.worker).to.equal('w2');
      expect(await jobRecord(svc.config, 'video', video.body.job_id)).to.deep.equal({
        attemptsStarted: 2,
        stalledCounter: 1,
      });
      // The line was written before the job completed, but its pipe may be read after the HTTP answer.
      await w2.waitForLog(forJob(video.body.job_id, 'job completed'), 5000);
      expect(w1.logs.filter(forJob(video.body.job_id, 'job completed'))).to.deep.equal([]);
      expect(w2.logs.filter(forJob(video.body.job_id, 'job started'))).to.have.length(1);
    });

    it('when the worker of a job is killed on it twice, then the job fails with a clear message after one retry, and its callback says so', async () => {
      const hooks: any[] = [];
      const hookServer = await startFixtureServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          hooks.push(JSON.parse(body));
          res.writeHead(204).end();
        });
      });
      try {
        await killedTwice(`${hookServer.url}/hook`, hooks);
      } finally {
        await hookServer.close();
      }
    });

    async function killedTwice(callbackUrl: string, hooks: any[]) {
      const fast = { WORKER_LOCK_DURATION_MS: '1000', WORKER_STALLED_INTERVAL_MS: '1000' };
      const w1 = await spawnWorker('w1', fast);
      const video = await startVideoJob(w1, { callback_url: callbackUrl });
      w1.kill('SIGKILL');
      await w1.exited;
      const w2 = await spawnWorker('w2', fast);
      await w2.waitForLog(forJob(video.body.job_id, 'job started'), 20_000);
      w2.kill('SIGKILL');
      await w2.exited;
      // A third worker finds the job stalled a second time, one more than maxStalledCount allows.
      const w3 = await spawnWorker('w3', fast);
      const failed = await pollJob(video.body.status_url, (job) => job.status === 'failed');
      expect(failed.error_code).to.equal(1);
      expect(failed.error_msg).to.equal(
        'The worker processing this job stopped unexpectedly, and again on the retry; the media may crash the decoder, so it is not tried again',
      );
      expect(w3.logs.filter(forJob(video.body.job_id, 'job started'))).to.deep.equal([]);
      // BullMQ's stall check fails the job without running it: the worker that ran the check reports its end.
      for (let i = 0; i < 200 && hooks.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(hooks).to.deep.equal([
        { error_code: 1, error_msg: failed.error_msg, job_id: video.body.job_id, faces_obj: {} },
      ]);
    }
  });

  describe('two worker processes', () => {
    let svc: TestService;
    let workers: WorkerProcess[];

    before(async () => {
      svc = await startService({}, { worker: false });
      const single = { IMAGE_CONCURRENCY: '1', INFERENCE_THREADS: '1' };
      workers = await Promise.all([
        startWorkerProcess(svc, 'w1', single),
        startWorkerProcess(svc, 'w2', single),
      ]);
    });
    after(async () => {
      await Promise.all(workers.map((w) => w.stop()));
      await svc.stop();
    });

    it('when many jobs arrive at once, then both workers run some, and each result names its worker', async () => {
      const submitted = await Promise.all(
        Array.from({ length: 16 }, () => postJson(`${svc.url}/detect`, { img: obama, async: true })),
      );
      const ran: string[] = [];
      for (const { body } of submitted) {
        const done = await pollJob(
          body.status_url,
          (job) => job.status === 'completed' || job.status === 'failed',
        );
        expect(done.status).to.equal('completed');
        ran.push((await svc.api.queue.get(body.job_id, 'image'))!.result!.worker);
      }
      expect(ran.filter((name) => name === 'w1')).to.not.be.empty;
      expect(ran.filter((name) => name === 'w2')).to.not.be.empty;
      expect(ran.filter((name) => name !== 'w1' && name !== 'w2')).to.deep.equal([]);
      expect(await getJson(`${svc.url}/readyz`)).to.nested.include({
        status: 200,
        'body.checks.workers.ok': true,
        'body.checks.workers.count': 2,
      });
    });

    it("when a request carries X-Request-Id, then the worker's log line for its job carries that id as JSON", async () => {
      const { status, body } = await postJson(
        `${svc.url}/detect`,
        { img: obama },
        { 'x-request-id': 'trace-abc' },
      );
      expect(status).to.equal(200);
      const traced = (line: LogLine) =>
        line.jobId === body.job_id && line.requestId === 'trace-abc' && line.msg === 'job completed';
      const line = await Promise.any(workers.map((w) => w.waitForLog(traced, 5000)));
      expect(line).to.include({ name: 'worker', queue: QUEUES.image });
      expect(line.level).to.be.a('number');
    });
  });

  describe('readiness', () => {
    it('when no worker process takes jobs, then the gateway answers 503 naming workers, and 200 with their count once one does', async () => {
      const svc = await startService({ INFERENCE_THREADS: '1' }, { worker: false });
      try {
        const idle = await getJson(`${svc.url}/readyz`);
        expect(idle.status).to.equal(503);
        expect(idle.body.checks.redis).to.deep.equal({ ok: true });
        expect(idle.body.checks.workers).to.include({ ok: false, count: 0 });
        expect(idle.body.checks.workers.error).to.include(QUEUES.image);

        const worker = await startWorker({ config: svc.config });
        try {
          const ready = await getJson(`${svc.url}/readyz`);
          expect(ready.status).to.equal(200);
          expect(ready.body.checks.workers).to.deep.equal({ ok: true, count: 1 });
        } finally {
          await worker.stop();
        }
        expect((await getJson(`${svc.url}/readyz`)).status).to.equal(503);
      } finally {
        await svc.stop();
      }
    });

    it('when the all-in-one process runs and its worker child is killed, then the gateway keeps serving, /readyz says the worker is down, and the restarted worker answers', async () => {
      const env = testEnv({ INFERENCE_THREADS: '1' });
      const app = await startStandalone({ env });
      const base = `http://127.0.0.1:${app.api.port}`;
      try {
        const ready = await getJson(`${base}/readyz`);
        expect(ready.status).to.equal(200);
        expect(ready.body.checks).to.deep.include({ worker: { ok: true, count: 1 }, redis: { ok: true } });
        expect((await getJson(`${base}/readyz`)).body.checks.workers).to.deep.equal({ ok: true, count: 1 });

        const pid = app.worker.pid;
        process.kill(pid ?? 0, 'SIGKILL');
        const down = await pollUntil(
          () => getJson(`${base}/readyz`),
          (r) => r.body.checks.worker.ok === false,
        );
        expect(down.status).to.equal(503);
        expect(down.body.checks.worker.error).to.match(
          /^The worker is down: the worker process exited \(SIGKILL\)/,
        );
        expect((await getJson(`${base}/healthz`)).status).to.equal(200);

        await pollUntil(
          () => getJson(`${base}/readyz`),
          (r) => r.status === 200,
          30_000,
        );
        expect(app.worker.pid).to.not.equal(pid);
        const { status, body } = await postJson(`${base}/detect`, { img: obama });
        expect(status).to.equal(200);
        expect(body.faces_obj['0'].region).to.have.length(1);
      } finally {
        await app.stop();
        await deleteKeys(loadConfig(env).queuePrefix);
        await rm(env.DATA_DIR ?? '', { recursive: true, force: true });
      }
    });
  });
});
