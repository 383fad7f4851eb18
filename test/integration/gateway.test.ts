import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { image } from '../support/fixtures.js';
import { serveFiles, type FixtureServer } from '../support/http-fixture-server.js';
import { getJson, postJson, startService, type TestService } from '../support/service.js';

describe('gateway: authentication, seed errors, async jobs', function () {
  let obama: Buffer;
  let files: FixtureServer;

  before(async () => {
    obama = await readFile(image('obama.jpg'));
    files = await serveFiles({
      '/obama.jpg': { body: obama, type: 'image/jpeg' },
      '/page.html': { body: Buffer.from('<html><body>hi</body></html>'), type: 'text/html' },
    });
  });
  after(async () => files.close());

  describe('with API_KEYS set', () => {
    let svc: TestService;
    before(async () => {
      svc = await startService({ API_KEYS: 'alpha,beta' });
    });
    after(async () => svc.stop());
    const call = (headers: Record<string, string>) =>
      postJson(`${svc.url}/detect`, { url: `${files.url}/obama.jpg` }, headers);

    it('when no key is sent, then 401 says how to send one', async () => {
      const { status, body } = await call({});
      expect(status).to.equal(401);
      expect(body).to.deep.equal({ error_code: 1, error_msg: body.error_msg, faces_obj: {} });
      expect(body.error_msg).to.include('Authorization');
    });

    it('when a valid key comes as Bearer, bare Authorization, or x-api-key, then the request succeeds', async () => {
      for (const headers of [
        { authorization: 'Bearer alpha' },
        { authorization: 'beta' },
        { 'x-api-key': 'alpha' },
      ] as Record<string, string>[]) {
        const { status, body } = await call(headers);
        expect(status, JSON.stringify(headers)).to.equal(200);
        expect(body.faces_obj['0'].region).to.have.length(1);
      }
    });

    it('when both headers are sent, then Authorization decides even if only x-api-key is valid', async () => {
      expect((await call({ authorization: 'Bearer wrong', 'x-api-key': 'alpha' })).status).to.equal(401);
      expect((await call({ authorization: 'Bearer alpha', 'x-api-key': 'wrong' })).status).to.equal(200);
    });

    it('when a key is wrong, then 401, and job polling needs a key too', async () => {
      expect((await call({ 'x-api-key': 'gamma' })).status).to.equal(401);
      expect((await getJson(`${svc.url}/jobs/i-abc-00000000-0000-0000-0000-000000000000`)).status).to.equal(
        401,
      );
    });

    it('when /healthz is called without a key, then it answers 200', async () => {
      const { status } = await getJson(`${svc.url}/healthz`);
      expect(status).to.equal(200);
    });
  });

  describe('without API_KEYS', () => {
    let svc: TestService;
    before(async () => {
      svc = await startService();
    });
    after(async () => svc.stop());
    const detect = (body: unknown) => postJson(`${svc.url}/detect`, body);

    it('when neither url nor img is sent, then 400 with the exact seed message', async () => {
      const { status, body } = await detect({ num_frames: 3 });
      expect(status).to.equal(400);
      expect(body).to.deep.equal({
        error_code: 1,
        error_msg: "Either 'url' or 'img' parameter must be provided",
        faces_obj: {},
      });
    });

    it('when the url is not http(s), then 400 with the exact seed message', async () => {
      const { status, body } = await detect({ url: 'ftp://example.com/a.jpg' });
      expect(status).to.equal(400);
      expect(body.error_msg).to.equal('Invalid URL format');
    });

    it('when the download fails, then 502 with the seed message and the reason after a colon', async () => {
      const { status, body } = await detect({ url: `${files.url}/missing.jpg` });
      expect(status).to.equal(502);
      expect(body.error_code).to.equal(1);
      expect(body.error_msg).to.match(/^Failed to download media from URL: .*404/);
    });

    it('when the url serves an HTML page, then 422 says it is not media', async () => {
      const { status, body } = await detect({ url: `${files.url}/page.html` });
      expect(status).to.equal(422);
      expect(body.error_msg).to.match(/HTML|text/);
    });

    it('when the url serves an image, then its faces come back like for base64', async () => {
      const byUrl = await detect({ url: `${files.url}/obama.jpg` });
      const byImg = await detect({ img: obama.toString('base64') });
      expect(byUrl.status).to.equal(200);
      expect(byUrl.body.faces_obj).to.deep.equal(byImg.body.faces_obj);
    });

    it('when the body is not JSON, then 400 says so', async () => {
      const { status, body } = await postJson(`${svc.url}/detect`, '{"img": ');
      expect(status).to.equal(400);
      expect(body.error_msg).to.match(/JSON/);
    });

    it('when async is set, then 202 comes at once with a job id, and polling returns the same answer', async () => {
      const sync = await detect({ img: obama.toString('base64') });
      const { status, body } = await detect({ img: obama.toString('base64'), async: true });
      expect(status).to.equal(202);
      expect(body).to.include({ error_code: 0, error_msg: 'PENDING' });
      expect(body.status_url).to.equal(`${svc.url}/jobs/${body.job_id}`);
      const done = await pollUntilDone(body.status_url);
      expect(done.status).to.equal('completed');
      expect(done.result).to.deep.equal({ ...sync.body, job_id: body.job_id });
    });

    it('every response carries an X-Request-Id, echoing a sane incoming one', async () => {
      const res = await fetch(`${svc.url}/healthz`, { headers: { 'x-request-id': 'trace-123' } });
      expect(res.headers.get('x-request-id')).to.equal('trace-123');
      const other = await fetch(`${svc.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
      expect(other.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    });
  });

  describe('with a tiny SYNC_TIMEOUT_MS', () => {
    let svc: TestService;
    before(async () => {
      svc = await startService({ SYNC_TIMEOUT_MS: '1' });
    });
    after(async () => svc.stop());

    it('when the result is not ready in time, then 202 with a status URL, and polling ends with the result', async () => {
      const { status, body } = await postJson(`${svc.url}/detect`, { img: obama.toString('base64') });
      expect(status).to.equal(202);
      expect(body.error_msg).to.equal('PENDING');
      const done = await pollUntilDone(body.status_url);
      expect(done.status).to.equal('completed');
      expect(done.result.error_code).to.equal(0);
      expect(done.result.job_id).to.equal(body.job_id);
      expect(done.result.faces_obj['0'].region).to.have.length(1);
    });
  });

  describe('with RESULT_TTL_S=1', () => {
    let svc: TestService;
    before(async () => {
      svc = await startService({ RESULT_TTL_S: '1' });
    });
    after(async () => svc.stop());

    it('when a result is older than RESULT_TTL_S, then its job id answers 404 saying it expired', async () => {
      const first = await postJson(`${svc.url}/detect`, { img: obama.toString('base64') });
      expect(first.status).to.equal(200);
      expect((await getJson(`${svc.url}/jobs/${first.body.job_id}`)).body.status).to.equal('completed');
      await new Promise((r) => setTimeout(r, 2100));
      // BullMQ drops jobs past their age when later jobs finish.
      expect((await postJson(`${svc.url}/detect`, { img: obama.toString('base64') })).status).to.equal(200);
      const { status, body } = await getJson(`${svc.url}/jobs/${first.body.job_id}`);
      expect(status).to.equal(404);
      expect(body.error_code).to.equal(1);
      expect(body.error_msg).to.match(/expired/);
      const unknown = await getJson(
        `${svc.url}/jobs/i-${Date.now().toString(36)}-00000000-0000-4000-8000-000000000000`,
      );
      expect(unknown.status).to.equal(404);
      expect(unknown.body.error_msg).to.match(/Unknown job id/);
    });
  });
});

describe('gateway: polling a job while it finishes', function () {
  let svc: TestService;
  before(async () => {
    // Polled without pause, hundreds of times: above the default rate limit.
    svc = await startService({ RATE_LIMIT_PER_MIN: '100000' });
  });
  after(async () => svc.stop());

  it('when a job is polled at the moment it completes, then a completed status always carries the result', async () => {
    const img = (await readFile(image('obama_small.jpg'))).toString('base64');
    for (let i = 0; i < 30; i++) {
      const { body } = await postJson(`${svc.url}/detect`, { img, async: true });
      let done;
      do done = (await getJson(body.status_url)).body;
      while (done.status !== 'completed' && done.status !== 'failed');
      expect(done.status).to.equal('completed');
      expect(done.result, `job ${i}`).to.not.equal(null);
    }
  });
});

async function pollUntilDone(statusUrl: string): Promise<any> {
  for (let i = 0; i < 200; i++) {
    const { status, body } = await getJson(statusUrl);
    expect(status).to.equal(200);
    expect(['waiting', 'active', 'completed', 'failed']).to.include(body.status);
    if (body.status === 'completed' || body.status === 'failed') return body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job at ${statusUrl} did not finish`);
}
