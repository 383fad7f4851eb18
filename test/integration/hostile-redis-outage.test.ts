import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { image } from '../support/fixtures.js';
import { AnswerLog, expectError, expectNoLeaks } from '../support/hostile.js';
import { start as startApi, type ApiHandle } from '../../api/main.js';
import { start as startWorker, type WorkerHandle } from '../../worker/main.js';
import type { Config } from '../../shared/config/config.js';
import { deleteKeysWithPrefix } from '../../shared/queue/delete-prefix.js';
import { startService, testConfig, type TestService } from '../support/service.js';

const REDIS_DOWN = 'The job queue (Redis) is unavailable; try again in a few seconds';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A private, throwaway Redis: the shared one on 6379 serves the other tests and must stay up. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  try {
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      if (
        await probe.connect().then(
          () => probe.ping().then(() => true),
          () => false,
        )
      )
        return child;
      probe.disconnect();
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not answer on port ${port}`);
  } finally {
    probe.disconnect();
  }
}

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

async function stopRedis(child: ChildProcess): Promise<void> {
  if (!running(child)) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('hostile conditions: Redis goes down and comes back', function () {
  this.timeout(40_000);
  const log = new AnswerLog();
  let port: number;
  let redis: ChildProcess | undefined;
  let svc: TestService;
  let small: string;
  let downSince = 0;

  before(async () => {
    small = (await readFile(image('obama_small.jpg'))).toString('base64');
    port = await freePort();
    redis = await startRedis(port);
    svc = await startService({ REDIS_URL: `redis://127.0.0.1:${port}` });
  });
  after(async () => {
    // The service closes its connections cleanly only against a live Redis.
    if (!redis || !running(redis)) redis = await startRedis(port).catch(() => undefined);
    await svc?.stop();
    if (redis) await stopRedis(redis);
  });

  it('when Redis is up, then a detect succeeds', async () => {
    const { status, body } = await log.post(`${svc.url}/detect`, { img: small });
    expect(status, JSON.stringify(body)).to.equal(200);
  });

  it('when Redis hangs (connected but silent), then POST /detect answers 503 within 3 s, and recovers when it resumes', async () => {
    redis!.kill('SIGSTOP');
    try {
      const started = performance.now();
      const answer = await log.post(`${svc.url}/detect`, { img: small });
      expect(performance.now() - started).to.be.below(3000);
      expectError(answer, 503, REDIS_DOWN);
    } finally {
      redis!.kill('SIGCONT');
    }
    expect((await log.post(`${svc.url}/detect`, { img: small })).status).to.equal(200);
  });

  it('when Redis dies, then POST /detect answers 503 within 3 s with a clear message, and the gateway stays up', async () => {
    await stopRedis(redis!);
    downSince = Date.now();
    for (const body of [{ img: small }, { url: 'http://127.0.0.1:9/a.jpg' }]) {
      const started = performance.now();
      const answer = await log.post(`${svc.url}/detect`, body);
      expect(performance.now() - started).to.be.below(3000);
      expectError(answer, 503, REDIS_DOWN);
      expect(answer.headers.get('retry-after')).to.equal('5');
    }
    const poll = await log.get(`${svc.url}/jobs/i-abc-00000000-0000-0000-0000-000000000000`);
    expectError(poll, 503, REDIS_DOWN);
  });

  it('when Redis is down, then /readyz is 503 naming redis while /healthz stays 200', async () => {
    const ready = await log.get(`${svc.url}/readyz`);
    expect(ready.status).to.equal(503);
    expect(ready.body.checks.redis).to.deep.equal({ ok: false, error: REDIS_DOWN });
    expect((await log.get(`${svc.url}/healthz`)).status).to.equal(200);
  });

  it('when Redis comes back on the same port, then detection works again without a restart', async () => {
    // Down long enough that every connection has failed several reconnection attempts.
    await new Promise((r) => setTimeout(r, Math.max(0, downSince + 3000 - Date.now())));
    redis = await startRedis(port);
    const deadline = Date.now() + 15_000;
    let last;
    while (Date.now() < deadline) {
      last = await log.post(`${svc.url}/detect`, { img: small });
      if (last.status === 200) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(last?.status, last?.text).to.equal(200);
    expect(last?.body.faces_obj['0'].region).to.have.length(1);
    expect((await log.get(`${svc.url}/readyz`)).status).to.equal(200);
  });

  it('when the outage is over, then no answer leaked internals', () => {
    expectNoLeaks(log);
  });
});

describe('hostile conditions: the gateway starts before Redis', function () {
  this.timeout(40_000);
  let port: number;
  let redis: ChildProcess | undefined;
  let api: ApiHandle | undefined;
  let worker: WorkerHandle | undefined;
  let config: Config;

  before(async () => {
    port = await freePort();
    config = testConfig({ REDIS_URL: `redis://127.0.0.1:${port}` });
  });
  after(async () => {
    await api?.stop();
    await worker?.stop();
    if (redis) {
      await deleteKeysWithPrefix(config.redis, config.queuePrefix);
      await stopRedis(redis);
    }
  });

  it('when Redis is down at start, then the gateway listens within seconds, answers 503, and detects once Redis is up', async () => {
    const started = performance.now();
    api = await startApi({ config });
    expect(performance.now() - started).to.be.below(5000);
    const url = `http://127.0.0.1:${api.port}`;
    const small = (await readFile(image('obama_small.jpg'))).toString('base64');
    const log = new AnswerLog();
    expectError(await log.post(`${url}/detect`, { img: small }), 503, REDIS_DOWN);
    expect((await log.get(`${url}/readyz`)).status).to.equal(503);
    expect((await log.get(`${url}/healthz`)).status).to.equal(200);

    redis = await startRedis(port);
    worker = await startWorker({ config });
    const deadline = Date.now() + 15_000;
    let last;
    while (Date.now() < deadline) {
      last = await log.post(`${url}/detect`, { img: small });
      if (last.status === 200) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(last?.status, last?.text).to.equal(200);
    expect(last?.body.faces_obj['0'].region).to.have.length(1);
    expectNoLeaks(log);
  });

  it('when Redis never came, then the gateway still stops at once on request', async () => {
    const lonely = await startApi({
      config: testConfig({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` }),
    });
    const started = performance.now();
    await lonely.stop();
    expect(performance.now() - started).to.be.below(2000);
  });
});
