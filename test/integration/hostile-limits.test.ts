import { readFile } from 'node:fs/promises';
import zlib from 'node:zlib';
import { expect } from 'chai';
import sharp from 'sharp';
import { image } from '../support/fixtures.js';
import { AnswerLog, expectError, expectNoLeaks, expectStillDetects } from '../support/hostile.js';
import { startService, type TestService } from '../support/service.js';

const MAX_IMAGE_BYTES = 400_000;
const MAX_BODY_BYTES = 600_000;
const MAX_IMAGE_PIXELS = 1_100_000;

/** A real PNG header claiming `width`×`height`, with one tiny compressed row: a decompression bomb's shape. */
function pngClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.alloc(width + 1))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('hostile input: every limit answers 413 or 400 and names itself', function () {
  const log = new AnswerLog();
  let svc: TestService;
  const detect = (body: unknown) => log.post(`${svc.url}/detect`, body);

  before(async () => {
    svc = await startService({
      MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES),
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      MAX_IMAGE_PIXELS: String(MAX_IMAGE_PIXELS),
    });
  });
  after(async () => svc?.stop());

  it('when the JSON body is larger than MAX_BODY_BYTES, then 413 names the limit', async () => {
    const answer = await detect({ img: 'A'.repeat(MAX_BODY_BYTES) });
    expectError(
      answer,
      413,
      `The request body is larger than the ${MAX_BODY_BYTES}-byte limit (MAX_BODY_BYTES); send a smaller image or use 'url'`,
    );
  });

  it('when the base64 image decodes to more than MAX_IMAGE_BYTES, then 413 names the limit', async () => {
    const answer = await detect({ img: Buffer.alloc(MAX_IMAGE_BYTES + 1, 7).toString('base64') });
    expectError(
      answer,
      413,
      `'img' decodes to ${MAX_IMAGE_BYTES + 1} bytes, above the ${MAX_IMAGE_BYTES}-byte limit (MAX_IMAGE_BYTES); send a smaller image or use 'url'`,
    );
  });

  it('when a real image has more pixels than MAX_IMAGE_PIXELS, then 413 names its size and the limit', async () => {
    const big = await readFile(image('obama-1080p.jpg'));
    expectError(
      await detect({ img: big.toString('base64') }),
      413,
      `The image is 1920x1080 = 2073600 pixels, above the ${MAX_IMAGE_PIXELS}-pixel limit (MAX_IMAGE_PIXELS); send a smaller image`,
    );
  });

  it('when a tiny PNG claims 30000x30000 pixels (a decompression bomb), then 413 before anything is decoded', async () => {
    const bomb = pngClaiming(30_000, 30_000);
    expect(bomb.length).to.be.below(200);
    expectError(
      await detect({ img: bomb.toString('base64') }),
      413,
      /^The image is 30000x30000 = 900000000 pixels, above the 1100000-pixel limit \(MAX_IMAGE_PIXELS\)/,
    );
  });

  it('when num_frames is out of bounds or not an integer, then 400 names the rule', async () => {
    const img = (
      await sharp({ create: { width: 8, height: 8, channels: 3, background: 'grey' } })
        .png()
        .toBuffer()
    ).toString('base64');
    for (const numFrames of [0, 101, -1, 2.5, '5', 1e9]) {
      expectError(
        await detect({ img, num_frames: numFrames }),
        400,
        "'num_frames' must be an integer between 1 and 100",
      );
    }
  });

  it('when the body is JSON nested 100000 deep, then 400 and the gateway stays up', async () => {
    expectError(
      await detect('['.repeat(100_000) + ']'.repeat(100_000)),
      400,
      /^The request body (must be a JSON object|is not valid JSON)$/,
    );
  });

  it('when the body smuggles __proto__, then nothing is polluted and the fields are validated as usual', async () => {
    const answer = await detect(
      '{"__proto__": {"polluted": true, "async": "yes"}, "num_frames": 0, "img": "AAAA"}',
    );
    expectError(answer, 400, "'num_frames' must be an integer between 1 and 100");
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it('when the hostile requests are over, then no answer leaked internals, and detection still works', async () => {
    await expectStillDetects(svc, log);
    expectNoLeaks(log);
  });
});

describe('hostile load: backpressure past MAX_QUEUE_DEPTH', function () {
  const log = new AnswerLog();
  let svc: TestService;
  let small: string;

  before(async () => {
    small = (await readFile(image('obama_small.jpg'))).toString('base64');
    // No worker: jobs stay waiting, so the depth is exact.
    svc = await startService({ MAX_QUEUE_DEPTH: '2' }, { worker: false });
  });
  after(async () => svc?.stop());

  it('when MAX_QUEUE_DEPTH jobs are waiting, then the next request gets 503 with Retry-After naming the limit', async () => {
    for (let i = 0; i < 2; i++)
      expect((await log.post(`${svc.url}/detect`, { img: small, async: true })).status).to.equal(202);
    const refused = await log.post(`${svc.url}/detect`, { img: small, async: true });
    expectError(
      refused,
      503,
      'The image queue is full: 2 jobs are waiting, the limit is 2 (MAX_QUEUE_DEPTH); try again later',
    );
    expect(refused.headers.get('retry-after')).to.equal('10');
  });

  it('when the image queue is full, then a bad request still gets its own 400, and videos still queue', async () => {
    expectError(await log.post(`${svc.url}/detect`, { img: '***' }), 400, /^'img' is not valid base64/);
    const video = await log.post(`${svc.url}/detect`, { url: 'http://127.0.0.1:9/clip.mp4', async: true });
    expect(video.status).to.equal(202);
  });

  it('when the queue answers 503, then no answer leaked internals', () => {
    expectNoLeaks(log);
  });
});
