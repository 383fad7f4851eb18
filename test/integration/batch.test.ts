import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { image, VIDEOS } from '../support/fixtures.js';
import { getJson, postJson, startService, type TestService } from '../support/service.js';

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
    const { status, body } = await getJson(url, as(key));
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
      { API_KEYS: `${KEY_A},${KEY_B}`, ALLOW_PRIVATE_URLS: 'false', SYNC_TIMEOUT_MS: '60000' },
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

  it('when a batch asks for a callback, then 400 says to poll instead', async () => {
    const { status, body } = await postJson(
      `${svc.url}/detect/batch`,
      { items: [{ img: obama }], callback_url: 'http://127.0.0.2/hook' },
      as(KEY_A),
    );
    expect(status).to.equal(400);
    expect(body.error_msg).to.include('callback_url');
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
