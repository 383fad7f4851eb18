import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { image, VIDEOS } from '../support/fixtures.js';
import { getJson, postJson, startService, type TestService } from '../support/service.js';
import { startFixtureServer, type FixtureServer } from '../support/http-fixture-server.js';
import { createHmac } from 'node:crypto';

const KEY_A = 'batch-a-key-0123456789';
const KEY_B = 'batch-b-key-9876543210';
const as = (key: string) => ({ authorization: `Bearer ${key}` });
/** Base64 that decodes to bytes no decoder takes for an image. */
const UNDECODABLE = Buffer.from('these bytes are not any picture at all').toString('base64');
const PRIVATE_URL = 'http://10.0.0.1/a.jpg';

/** Serves the fixture files on 127.0.0.2, which the test's address rule counts as public. */
async function fixtureHost(): Promise<{ base: string; close: () => Promise<void> }> {
  const files: Record<string, { type: string; bytes: Buffer }> = {
    '/obama.jpg': { type: 'image/jpeg', bytes: await readFile(image('obama.jpg')) },
    '/clip.mp4': {
      type: 'video/mp4',
      bytes: await readFile(path.join(VIDEOS, 'short_hamilton_clip.mp4')),
    },
  };
  const server = http.createServer((req, res) => {
    const file = files[req.url ?? ''];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file.type, 'content-length': file.bytes.length }).end(file.bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.2:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Polls a batch's status_url as `key` until every item has finished, keeping each answer seen. */
async function polled(url: string, key: string): Promise<any[]> {
  const seen = [];
  for (let i = 0; i < 600; i++) {
    const { status, body } = await getJson(url, key ? as(key) : {});
    expect(status).to.equal(200);
    seen.push(body);
    if (body.status === 'completed') return seen;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect.fail('the batch did not finish');
}

describe('POST /detect/batch: many images in one call', function () {
  this.timeout(120_000);
  let svc: TestService;
  let origin: Awaited<ReturnType<typeof fixtureHost>>;
  let obama: string;
  let twoPeople: string;

  before(async () => {
    origin = await fixtureHost();
    obama = (await readFile(image('obama.jpg'))).toString('base64');
    twoPeople = (await readFile(image('two_people.jpg'))).toString('base64');
    svc = await startService(
      {
        API_KEYS: `${KEY_A},${KEY_B}`,
        ALLOW_PRIVATE_URLS: 'false',
        SYNC_TIMEOUT_MS: '60000',
        MAX_IMAGE_BYTES: '600000',
      },
      { isAllowedAddress: (ip) => ip === '127.0.0.2' },
    );
  });
  after(async () => {
    await svc?.stop();
    await origin?.close();
  });

  it('when 16 mixed items include an undecodable image and a private URL, then each gets its own answer in order and the batch is 200', async () => {
    const items = [
      { img: obama },
      { url: `${origin.base}/obama.jpg` },
      { img: UNDECODABLE },
      { url: PRIVATE_URL },
      { img: twoPeople },
      { img: twoPeople, single_face: false },
      { url: `${origin.base}/clip.mp4`, num_frames: 2 },
      ...Array.from({ length: 9 }, () => ({ img: obama })),
    ];
    const { status, body } = await postJson(
      `${svc.url}/detect/batch`,
      { items, single_face: true },
      as(KEY_A),
    );
    expect(status).to.equal(200);
    expect(body.error_code).to.equal(0);
    expect(body.job_id).to.match(/^b-/);
    expect(body.items).to.have.length(16);
    expect(body.items.map((item: any) => item.status)).to.deep.equal([
      200,
      200,
      body.items[2].status,
      400,
      200,
      200,
      200,
      ...Array<number>(9).fill(200),
    ]);
    // Each bad item gets exactly what it would get alone.
    for (const [index, alone] of [
      [2, { img: UNDECODABLE }],
      [3, { url: PRIVATE_URL }],
    ] as const) {
      const single = await postJson(`${svc.url}/detect`, alone, as(KEY_A));
      expect(body.items[index]).to.deep.equal({
        status: single.status,
        error_code: 1,
        error_msg: single.body.error_msg,
        faces_obj: {},
        tracks: null,
      });
    }
    // The shared single_face holds for item 4, item 5 overrides it.
    expect(body.items[4].faces_obj['0'].region).to.have.length(1);
    expect(body.items[5].faces_obj['0'].region).to.have.length(2);
    expect(Object.keys(body.items[6].faces_obj)).to.have.length(2);
    for (const i of [0, 1, 7, 15]) expect(body.items[i].faces_obj['0'].region).to.have.length(1);

    const poll = await getJson(`${svc.url}/jobs/${body.job_id}`, as(KEY_A));
    expect(poll.body.status).to.equal('completed');
    expect(poll.body.progress).to.deep.equal({ done: 16, total: 16 });
    expect(poll.body.result.items).to.deep.equal(body.items);
  });

  it('when 17 items are sent, then 400 names the limit and nothing runs', async () => {
    const items = Array.from({ length: 17 }, () => ({ img: obama }));
    const { status, body } = await postJson(`${svc.url}/detect/batch`, { items }, as(KEY_A));
    expect(status).to.equal(400);
    expect(body.error_msg).to.include('at most 16').and.include('MAX_BATCH_ITEMS');
  });

  it('when a batch is async, then 202 gives a status_url whose polls show progress and the finished items', async () => {
    const items = [{ img: obama }, { img: UNDECODABLE }, { url: `${origin.base}/obama.jpg` }];
    const submitted = await postJson(`${svc.url}/detect/batch`, { items, async: true }, as(KEY_A));
    expect(submitted.status).to.equal(202);
    expect(submitted.body.error_msg).to.equal('PENDING');
    expect(submitted.body.status_url).to.equal(`${svc.url}/jobs/${submitted.body.job_id}`);
    const seen = await polled(submitted.body.status_url, KEY_A);
    for (const answer of seen) {
      expect(answer.progress.total).to.equal(3);
      expect(answer.progress.done).to.equal(answer.items.filter((item: any) => item !== null).length);
    }
    const last = seen.at(-1);
    expect(last.progress).to.deep.equal({ done: 3, total: 3 });
    expect(last.result.items.map((item: any) => item.status)).to.deep.equal([200, last.items[1].status, 200]);
    expect(last.items[1].error_code).to.equal(1);
  });

  it("when key B reads key A's batch, then it gets the 404 an unknown id gets", async () => {
    const submitted = await postJson(
      `${svc.url}/detect/batch`,
      { items: [{ img: obama }], async: true },
      as(KEY_A),
    );
    const id: string = submitted.body.job_id;
    await polled(submitted.body.status_url, KEY_A);
    const theirs = await getJson(`${svc.url}/jobs/${id}`, as(KEY_B));
    const unknownId = id.replace(/.{8}$/, '00000000');
    const unknown = await getJson(`${svc.url}/jobs/${unknownId}`, as(KEY_B));
    expect(theirs.status).to.equal(404);
    expect(unknown.status).to.equal(404);
    expect(theirs.body).to.deep.equal({
      ...unknown.body,
      error_msg: unknown.body.error_msg.replace(unknownId, id),
    });
  });

  it('when a multipart batch has several file parts and one is over MAX_IMAGE_BYTES, then that part alone gets 413', async () => {
    const form = new FormData();
    const photo = (name: string) => readFile(image(name));
    form.append('file', new Blob([await photo('obama.jpg')], { type: 'image/jpeg' }), 'a.jpg');
    form.append('file', new Blob([Buffer.alloc(600_001, 1)], { type: 'image/jpeg' }), 'big.jpg');
    form.append('file', new Blob([await photo('two_people.jpg')], { type: 'image/jpeg' }), 'b.jpg');
    form.append('file', new Blob([Buffer.from(UNDECODABLE, 'base64')], { type: 'image/jpeg' }), 'c.jpg');
    form.append('min_confidence', '0.5');
    const res = await fetch(`${svc.url}/detect/batch`, { method: 'POST', headers: as(KEY_A), body: form });
    const body = (await res.json()) as any;
    expect(res.status).to.equal(200);
    expect(body.items.map((item: any) => item.status)).to.deep.equal([200, 413, 200, body.items[3].status]);
    expect(body.items[3].status).to.be.within(400, 499);
    expect(body.items[1].error_msg).to.include('#2').and.include('MAX_IMAGE_BYTES');
    expect(body.items[0].faces_obj['0'].region).to.have.length(1);
    expect(body.items[2].faces_obj['0'].region).to.have.length(2);
  });

  it('when a multipart batch has more file parts than MAX_BATCH_ITEMS, then 400 names the limit', async () => {
    const form = new FormData();
    for (let i = 0; i < 17; i++) form.append('file', new Blob([Buffer.from(obama, 'base64')]), `${i}.jpg`);
    const res = await fetch(`${svc.url}/detect/batch`, { method: 'POST', headers: as(KEY_A), body: form });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as any).error_msg).to.include('MAX_BATCH_ITEMS');
  });
});

describe('POST /detect/batch with a callback_url', function () {
  this.timeout(120_000);
  let svc: TestService;
  let hooks: FixtureServer;
  const received: { body: any; signature: string | undefined }[] = [];
  let obama: string;

  before(async () => {
    obama = (await readFile(image('obama.jpg'))).toString('base64');
    hooks = await startFixtureServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString();
        received.push({ body: JSON.parse(raw), signature: req.headers['x-signature'] as string });
        expect(req.headers['x-signature']).to.equal(
          `sha256=${createHmac('sha256', 'batch-hook-secret').update(raw).digest('hex')}`,
        );
        res.writeHead(204).end();
      });
    });
    svc = await startService({ WEBHOOK_SECRET: 'batch-hook-secret' });
  });
  after(async () => {
    await svc?.stop();
    await hooks?.close();
  });

  async function hookFor(jobId: string): Promise<any> {
    for (let i = 0; i < 600; i++) {
      const hook = received.find((r) => r.body.job_id === jobId);
      if (hook) return hook.body;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect.fail(`no callback for ${jobId}`);
  }

  it('when an async batch names a callback_url, then it receives the final answer once, equal to the last poll', async () => {
    const items = [{ img: obama }, { img: UNDECODABLE }, { img: obama, num_frames: 0 }, { img: obama }];
    const submitted = await postJson(`${svc.url}/detect/batch`, {
      items,
      async: true,
      callback_url: `${hooks.url}/hook`,
    });
    expect(submitted.status).to.equal(202);
    const seen = await polled(submitted.body.status_url, '');
    const hook = await hookFor(submitted.body.job_id);
    expect(hook).to.deep.equal(seen.at(-1).result);
    expect(hook.items.map((item: any) => item.status)).to.deep.equal([200, hook.items[1].status, 400, 200]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received.filter((r) => r.body.job_id === submitted.body.job_id)).to.have.length(1);
  });

  it('when every item of a callback batch is refused at the gateway, then the callback still comes', async () => {
    const items = [{ img: obama, num_frames: 0 }, { url: 'not a url' }];
    const submitted = await postJson(`${svc.url}/detect/batch`, {
      items,
      async: true,
      callback_url: `${hooks.url}/hook`,
    });
    expect(submitted.status).to.equal(202);
    const hook = await hookFor(submitted.body.job_id);
    expect(hook.items.map((item: any) => item.status)).to.deep.equal([400, 400]);
    expect(hook.items.every((item: any) => item.error_code === 1)).to.equal(true);
  });

  it('when an item names its own callback_url, then 400 says it belongs to the batch', async () => {
    const { status, body } = await postJson(`${svc.url}/detect/batch`, {
      items: [{ img: obama, callback_url: `${hooks.url}/hook` }],
    });
    expect(status).to.equal(400);
    expect(body.error_msg).to.include('callback_url').and.include('batch');
  });
});

describe('POST /detect/batch and the rate limit', function () {
  this.timeout(60_000);
  let svc: TestService;

  before(async () => {
    svc = await startService({ RATE_LIMIT_PER_MIN: '5' });
  });
  after(async () => svc?.stop());

  it('when a batch has more items than the limit leaves, then it is refused whole with 429 before any job is queued', async () => {
    const obama = (await readFile(image('obama.jpg'))).toString('base64');
    const items = Array.from({ length: 6 }, () => ({ img: obama }));
    const { status, headers, body } = await postJson(`${svc.url}/detect/batch`, { items });
    expect(status).to.equal(429);
    expect(headers.get('retry-after')).to.match(/^\d+$/);
    expect(body.error_msg).to.include('RATE_LIMIT_PER_MIN');
    const counts = await svc.api.queue.jobCounts('image');
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).to.equal(0);
  });
});

describe('POST /detect/batch past SYNC_TIMEOUT_MS', function () {
  this.timeout(60_000);
  let svc: TestService;

  // No worker: nothing finishes, so the sync wait runs out as it does behind a long queue.
  before(async () => {
    svc = await startService({ SYNC_TIMEOUT_MS: '300' }, { worker: false });
  });
  after(async () => svc?.stop());

  it('when the items are not done within SYNC_TIMEOUT_MS, then 202 gives the status_url that shows them running', async () => {
    const obama = (await readFile(image('obama.jpg'))).toString('base64');
    const { status, body } = await postJson(`${svc.url}/detect/batch`, {
      items: [{ img: obama }, { img: obama, num_frames: 0 }],
    });
    expect(status).to.equal(202);
    expect(body.status_url).to.equal(`${svc.url}/jobs/${body.job_id}`);
    const poll = await getJson(body.status_url);
    expect(poll.body.progress).to.deep.equal({ done: 1, total: 2 });
    expect(poll.body.items[0]).to.equal(null);
    expect(poll.body.items[1].status).to.equal(400);
  });
});
