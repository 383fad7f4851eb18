import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { image } from '../support/fixtures.js';
import { commandsMentioning } from '../support/redis-monitor.js';
import { getJson, postJson, REDIS_URL, startService, type TestService } from '../support/service.js';

const KEY_A = 'tenant-a-key-0123456789';
const KEY_B = 'tenant-b-key-9876543210';
const as = (key: string) => ({ authorization: `Bearer ${key}` });

/** Polls GET /jobs/:id as `key` until the job is done. */
async function finished(url: string, key: string): Promise<any> {
  for (let i = 0; i < 200; i++) {
    const { body } = await getJson(url, as(key));
    if (body.status === 'completed' || body.status === 'failed') return body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect.fail('the job did not finish');
}

describe('tenants: a job belongs to the key that submitted it', function () {
  this.timeout(60_000);
  let svc: TestService;
  let obama: string;

  before(async () => {
    svc = await startService({ API_KEYS: `${KEY_A},${KEY_B}` });
    obama = (await readFile(image('obama.jpg'))).toString('base64');
  });
  after(async () => svc.stop());

  it("when key B polls key A's job, then it gets the very 404 an unknown id gets, and A still reads it", async () => {
    const submitted = await postJson(`${svc.url}/detect`, { img: obama, async: true }, as(KEY_A));
    expect(submitted.status).to.equal(202);
    const jobId: string = submitted.body.job_id;
    const mine = await finished(`${svc.url}/jobs/${jobId}`, KEY_A);
    expect(mine.status).to.equal('completed');
    expect(mine.result.faces_obj['0'].region).to.have.length(1);

    const theirs = await getJson(`${svc.url}/jobs/${jobId}`, as(KEY_B));
    expect(theirs.status).to.equal(404);
    // An id of the same shape that was never issued.
    const unknownId = jobId.replace(/.{8}$/, '00000000');
    const unknown = await getJson(`${svc.url}/jobs/${unknownId}`, as(KEY_B));
    expect(unknown.status).to.equal(404);
    expect(theirs.body).to.deep.equal({
      ...unknown.body,
      error_msg: unknown.body.error_msg.replace(unknownId, jobId),
    });
    expect(theirs.body.faces_obj).to.deep.equal({});
  });

  it("when key B polls key A's finished job, then Redis is asked for the job's owner alone, never its result", async () => {
    const submitted = await postJson(`${svc.url}/detect`, { img: obama, async: true }, as(KEY_A));
    const jobId: string = submitted.body.job_id;
    await finished(`${svc.url}/jobs/${jobId}`, KEY_A);
    const jobKey = `${svc.config.queuePrefix}:detect-image:${jobId}`;
    const readsOf = (key: string) =>
      commandsMentioning(REDIS_URL, jobId, () => getJson(`${svc.url}/jobs/${jobId}`, as(key)));

    // MONITOR shows the script (its keys: the job, and the job it would have moved to), then each command it ran.
    const [[command, script, keyCount, key] = [], ...ran] = await readsOf(KEY_B);
    expect([command, keyCount, key]).to.deep.equal(['eval', '2', jobKey]);
    expect(script).to.not.match(/returnvalue|HGETALL/i);
    expect(ran).to.deep.equal([['HGET', jobKey, 'data']]);
    // The owner's own poll reads the whole job, which this watch sees.
    expect((await readsOf(KEY_A)).map((c) => c[0]!.toLowerCase())).to.include('hgetall');
  });

  it("when key A asks for crops, then its links work, and key B gets neither A's job nor A's crops by path", async () => {
    const submitted = await postJson(
      `${svc.url}/detect`,
      { img: obama, async: true, return_face_url: true },
      as(KEY_A),
    );
    const done = await finished(`${svc.url}/jobs/${submitted.body.job_id}`, KEY_A);
    const [link] = done.result.faces_obj['0'].face_urls as string[];
    expect((await fetch(link!)).status).to.equal(200);
    expect((await getJson(`${svc.url}/jobs/${submitted.body.job_id}`, as(KEY_B))).status).to.equal(404);
    // The path follows from the job id; without the link's signature it reads nothing, with any key.
    const bare = link!.slice(0, link!.indexOf('?'));
    for (const headers of [{}, as(KEY_A), as(KEY_B)]) {
      expect((await fetch(bare, { headers })).status).to.equal(403);
    }
  });

  it('when a job is stored, then Redis holds an owner id of the key, never the key itself', async () => {
    const submitted = await postJson(`${svc.url}/detect`, { img: obama, async: true }, as(KEY_B));
    await finished(`${svc.url}/jobs/${submitted.body.job_id}`, KEY_B);
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`${svc.config.queuePrefix}:*`);
      const dumps = await Promise.all(
        keys.map(async (k) =>
          (await redis.type(k)) === 'hash' ? JSON.stringify(await redis.hgetall(k)) : '',
        ),
      );
      const all = dumps.join('\n');
      expect(all).to.match(/\\"owner\\":/);
      expect(all).to.not.include(KEY_A);
      expect(all).to.not.include(KEY_B);
    } finally {
      redis.disconnect();
    }
  });
});

describe('submit-time URL checks', function () {
  this.timeout(30_000);
  let svc: TestService;
  before(async () => {
    svc = await startService({ ALLOW_PRIVATE_URLS: 'false' }, { worker: false });
  });
  after(async () => svc.stop());

  it('when callback_url is on a private or loopback address, then 400 at submit names the refusal', async () => {
    for (const callback of ['http://127.0.0.1:9/hook', 'http://10.1.2.3/hook', 'http://[::1]/hook']) {
      const { status, body } = await postJson(`${svc.url}/detect`, {
        url: 'https://example.com/photo.jpg',
        callback_url: callback,
      });
      expect(status, callback).to.equal(400);
      expect(body.error_msg).to.match(/^'callback_url' is refused: its host resolves to a loopback, private/);
    }
  });

  it('when url or callback_url carries user:pass@, then 400 says credentials are not accepted, before anything is stored', async () => {
    for (const body of [
      { url: 'https://user:secret@example.com/photo.jpg' },
      { url: 'https://example.com/photo.jpg', callback_url: 'https://me:pw@hooks.example.com/x' },
    ]) {
      const answer = await postJson(`${svc.url}/detect`, body);
      expect(answer.status).to.equal(400);
      expect(answer.body.error_msg).to.match(/is refused: it carries a user name or password/);
      expect(answer.body.error_msg).to.not.include('secret');
    }
  });
});
