import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { image } from '../support/fixtures.js';
import { serveFiles, type FixtureServer } from '../support/http-fixture-server.js';
import { ClusterTopology } from '../support/redis-cluster-topology.js';
import { SentinelTopology } from '../support/redis-sentinel-topology.js';
import { waitFor } from '../support/redis-topology.js';
import { getJson, postJson, startService, type TestService } from '../support/service.js';
import { CLIP } from '../support/video-fixtures.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

type Topology = ClusterTopology | SentinelTopology;

interface Answer {
  startedAt: number;
  ms: number;
  status: number;
  /** Where a job accepted with 202 is polled. */
  statusUrl?: string;
}

/**
 * Requests until stopped, one loop per body: synchronous ones, which wait for their job, and asynchronous
 * ones, which touch Redis and answer at once, so some are sure to be sent while no primary answers.
 */
function startLoad(url: string, bodies: unknown[]) {
  const answers: Answer[] = [];
  let running = true;
  const loop = async (body: unknown) => {
    while (running) {
      const startedAt = Date.now();
      const answer = await postJson(`${url}/detect`, body).catch(() => ({ status: 0, body: {} as any }));
      answers.push({
        startedAt,
        ms: Date.now() - startedAt,
        status: answer.status,
        statusUrl: answer.body.status_url,
      });
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const loops = bodies.map(loop);
  return {
    answers,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function pollJob(statusUrl: string, timeoutMs: number): Promise<any> {
  let last: any;
  await waitFor(
    `job ${statusUrl} to complete`,
    async () => {
      last = (await getJson(statusUrl)).body;
      return last.status === 'completed';
    },
    timeoutMs,
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; last answer ${JSON.stringify(last)}`);
  });
  return last;
}

/** Polls a job until it completed, or its id is unknown (a job lost with the primary), or `timeoutMs`. */
async function jobOutcome(statusUrl: string, timeoutMs: number): Promise<string> {
  let outcome = 'pending';
  await waitFor(
    `job ${statusUrl} to end`,
    async () => {
      const { status, body } = await getJson(statusUrl);
      outcome = status === 404 ? 'unknown' : String(body.status);
      return outcome === 'completed' || outcome === 'unknown';
    },
    timeoutMs,
  );
  return outcome;
}

function failoverSuite(name: string, start: () => Promise<Topology>) {
  describe(`Redis ${name}: failover under load`, function () {
    this.timeout(120_000);
    let topology: Topology;
    let files: FixtureServer;
    let svc: TestService;
    let workers: WorkerProcess[] = [];
    let small: { img: string };
    let video: { url: string; num_frames: number };

    before(async () => {
      topology = await start();
      small = { img: (await readFile(image('obama_small.jpg'))).toString('base64') };
      files = await serveFiles({ '/clip.mp4': { body: await readFile(CLIP), type: 'video/mp4' } });
      video = { url: `${files.url}/clip.mp4`, num_frames: 3 };
      // Short locks: a job whose completion was lost with the primary runs again within seconds.
      const locks = { WORKER_LOCK_DURATION_MS: '5000', WORKER_STALLED_INTERVAL_MS: '5000' };
      svc = await startService({ ...topology.env, ...locks, SYNC_TIMEOUT_MS: '20000' }, { worker: false });
      workers = await Promise.all(['w1', 'w2'].map((w) => startWorkerProcess(svc, w, locks)));
      // Loading the model takes a while on a busy machine.
      await waitFor(
        'both workers to be seen by the gateway',
        async () => {
          const ready = await getJson(`${svc.url}/readyz`);
          return ready.status === 200 && ready.body.checks.workers.count === 2;
        },
        60_000,
      ).catch(async (err) => {
        console.log('readiness:', JSON.stringify((await getJson(`${svc.url}/readyz`)).body));
        for (const w of workers) console.log(w.logs.map((l) => JSON.stringify(l)).join('\n'));
        throw err;
      });
    });
    afterEach(function () {
      if (this.currentTest?.state === 'failed')
        for (const w of workers) console.log(w.logs.map((l) => JSON.stringify(l)).join('\n'));
    });
    after(async () => {
      await Promise.all(workers.map((w) => w.stop()));
      await svc?.stop();
      await files?.close();
      await topology?.stop();
    });

    it(`when a gateway and two workers share the ${name}, then images and videos are served sync and async`, async () => {
      const image = await postJson(`${svc.url}/detect`, small);
      expect(image.status, JSON.stringify(image.body)).to.equal(200);
      expect(image.body.faces_obj['0'].region).to.have.length(1);
      const clip = await postJson(`${svc.url}/detect`, video);
      expect(clip.status, JSON.stringify(clip.body)).to.equal(200);
      expect(Object.keys(clip.body.faces_obj)).to.have.length(3);
      for (const body of [small, video]) {
        const accepted = await postJson(`${svc.url}/detect`, { ...body, async: true });
        expect(accepted.status).to.equal(202);
        expect((await pollJob(accepted.body.status_url, 30_000)).result.faces_obj).to.not.be.empty;
      }
    });

    it(`when the ${name} primary that holds the queues is killed mid-load, then the gateway answers 503 quickly until a replica takes over, carries on without a restart, and the jobs accepted before complete`, async () => {
      const primary = await topology.primaryFor(svc.config.queuePrefix);
      const accepted = await Promise.all(
        [small, small, small, small, video, video].map((body) =>
          postJson(`${svc.url}/detect`, { ...body, async: true }),
        ),
      );
      for (const a of accepted) expect(a.status, JSON.stringify(a.body)).to.equal(202);
      const lagMs = await topology.replicationLagMs(primary);

      const load = startLoad(svc.url, [small, small, { ...small, async: true }]);
      await new Promise((r) => setTimeout(r, 1000));
      const killedAt = await topology.kill(primary);
      await topology.promoted(primary);
      const promotedAt = Date.now();
      const succeededAfterKill = () => load.answers.filter((a) => a.startedAt > killedAt && a.status === 200);
      await waitFor(
        'a request sent after the kill to succeed',
        () => Promise.resolve(succeededAfterKill().length > 0),
        60_000,
      );
      const recoveredAt = Math.min(...succeededAfterKill().map((a) => a.startedAt));
      await new Promise((r) => setTimeout(r, 3000));
      await load.stop();

      const refused = load.answers.filter((a) => a.status === 503);
      expect(refused, 'no 503 while no primary answered').to.not.be.empty;
      for (const a of refused) expect(a.ms, 'a 503 took too long').to.be.below(3000);
      for (const a of load.answers) expect([200, 202, 503]).to.include(a.status);
      expect(load.answers.slice(-6).map((a) => a.status)).to.not.include(503);
      const done = await Promise.all(accepted.map((a) => pollJob(a.body.status_url, 60_000)));
      for (const job of done) expect(job.result.faces_obj).to.not.be.empty;
      // Jobs accepted during the load: only those acknowledged just before the kill may be lost with it.
      const during = load.answers.filter((a) => a.status === 202 && a.statusUrl);
      const lost = [];
      for (const a of during) if ((await jobOutcome(a.statusUrl!, 60_000)) !== 'completed') lost.push(a);
      for (const a of lost) expect(killedAt - (a.startedAt + a.ms)).to.be.within(0, 1000);
      await waitFor('both workers to be back', async () => {
        const ready = await getJson(`${svc.url}/readyz`);
        return ready.status === 200 && ready.body.checks.workers.count === 2;
      });
      console.log(
        `      ${name}: replication lag ≤ ${lagMs.toFixed(0)} ms; replica promoted ${promotedAt - killedAt} ms ` +
          `after the kill; first success sent ${recoveredAt - killedAt} ms after it; ${refused.length} × 503 ` +
          `(slowest ${Math.max(...refused.map((a) => a.ms))} ms) of ${load.answers.length} requests; ` +
          `${done.length}/${accepted.length} earlier async jobs completed, ${lost.length}/${during.length} of the load's lost`,
      );
    });
  });
}

failoverSuite('Cluster', () => ClusterTopology.start(7100));
failoverSuite('Sentinel', () => SentinelTopology.start(7200));
