import { readFile } from 'node:fs/promises';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { image } from '../support/fixtures.js';
import { bodyOf, chunked, closesSoon, exchange, type Exchange } from '../support/http-exchange.js';
import { startService, type TestService } from '../support/service.js';

const KEY = 'content-encoding-key-0123';
const AUTH = { authorization: `Bearer ${KEY}` };
const MAX_IMAGE_BYTES = 600_000;
const MAX_BODY_BYTES = 800_000;
/** What Node may read past a limit before it stops: its socket and stream buffers, not the body. */
const READ_SLACK = 256 * 1024;
const ENCODERS = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync };

/** About `bytes` of each coding that inflate to nothing and never end. */
const NOTHING_FOREVER = {
  // Empty gzip members, one after another.
  gzip: (bytes: number) => Buffer.alloc(bytes, gzipSync(Buffer.alloc(0))),
  // A zlib header, then empty stored blocks that are never the last.
  deflate: (bytes: number) =>
    Buffer.concat([Buffer.from([0x78, 0x01]), Buffer.alloc(bytes, Buffer.from([0, 0, 0, 0xff, 0xff]))]),
  // A window size, then empty metadata blocks that are never the last.
  br: (bytes: number) => Buffer.concat([Buffer.from([0x0c]), Buffer.alloc(bytes, 0x06)]),
};

interface Answer {
  status: number;
  body: any;
}

async function post(url: string, body: Buffer, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { ...AUTH, ...headers }, body });
  return { status: res.status, body: await res.json() };
}

/** A form's bytes and Content-Type, as fetch would send them. */
async function formBytes(file: Buffer, fields: Record<string, string> = {}) {
  const form = new FormData();
  form.append('file', new Blob([file], { type: 'image/jpeg' }), 'photo.jpg');
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  const request = new Request('http://x', { method: 'POST', body: form });
  return { bytes: Buffer.from(await request.arrayBuffer()), type: request.headers.get('content-type')! };
}

/** Writes `bytes` as a chunked body, 64 KiB at a time, until all is sent or the server hangs up. */
async function stream(ex: Exchange, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length; at += 64 * 1024)
    if (!(await ex.write(chunked(bytes.subarray(at, at + 64 * 1024))))) return;
  await ex.write(Buffer.from('0\r\n\r\n'));
}

describe('Content-Encoding: compressed request bodies', function () {
  this.timeout(60_000);
  let svc: TestService;
  let obama: Buffer;
  /** 1 GB of zeros in about 1 MB: a gzip member of 10 MB of zeros, 100 times over. */
  let bomb: Buffer;

  before(async () => {
    svc = await startService({
      API_KEYS: KEY,
      MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES),
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    });
    obama = await readFile(image('obama.jpg'));
    const member = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    bomb = Buffer.concat(Array.from({ length: 100 }, () => member));
  });
  after(async () => svc?.stop());

  it('when a JPEG comes gzip, deflate or br compressed, raw, in a form or as JSON, then it is inflated and found as sent plain', async () => {
    const plain = await post(`${svc.url}/detect`, obama, { 'content-type': 'image/jpeg' });
    expect(plain.status).to.equal(200);
    const form = await formBytes(obama, { single_face: 'true' });
    const json = Buffer.from(JSON.stringify({ img: obama.toString('base64') }));
    for (const [coding, encode] of Object.entries(ENCODERS)) {
      for (const [what, bytes, type] of [
        ['raw', obama, 'image/jpeg'],
        ['form', form.bytes, form.type],
        ['json', json, 'application/json'],
      ] as const) {
        const answer = await post(`${svc.url}/detect`, encode(bytes), {
          'content-type': type,
          'content-encoding': coding,
        });
        expect(answer.status, `${coding} ${what}: ${answer.body.error_msg}`).to.equal(200);
        expect(answer.body.faces_obj, `${coding} ${what}`).to.deep.equal(plain.body.faces_obj);
      }
    }
    const identity = await post(`${svc.url}/detect`, obama, {
      'content-type': 'image/jpeg',
      'content-encoding': 'identity',
    });
    expect(identity.body.faces_obj).to.deep.equal(plain.body.faces_obj);
  });

  it('when a body comes in any other Content-Encoding, raw, in a form or as JSON, then 415 names it before the body is read', async () => {
    for (const coding of ['compress', 'zstd', 'foo', 'gzip, br', 'x-unknown, gzip', 'gzip;q=1']) {
      for (const type of ['image/jpeg', 'multipart/form-data; boundary=b', 'application/json']) {
        const ex = exchange(svc, {
          ...AUTH,
          'content-type': type,
          'content-encoding': coding,
          'content-length': '500000',
        });
        expect(await ex.status, `${coding} ${type}`).to.equal(415);
        expect(bodyOf(ex)).to.deep.equal({
          error_code: 1,
          error_msg: `The body's Content-Encoding '${coding}' is not accepted; send the body uncompressed, or in one of gzip, deflate or br`,
          faces_obj: {},
        });
        ex.destroy();
      }
    }
  });

  it('when a raw gzip body inflates past MAX_IMAGE_BYTES (a bomb), then 413 names the limit and inflating stops there', async () => {
    const ex = exchange(svc, {
      ...AUTH,
      'content-type': 'image/jpeg',
      'content-encoding': 'gzip',
      'transfer-encoding': 'chunked',
    });
    const server = await ex.serverSocket;
    await stream(ex, bomb);
    expect(await ex.status).to.equal(413);
    expect(await closesSoon(ex)).to.equal(true);
    // 600 kB of zeros is under a kilobyte of gzip: all the server read is what its buffers took at once.
    expect(server.bytesRead).to.be.below(READ_SLACK);
    expect(bodyOf(ex).error_msg).to.equal(
      `The body, inflated, is larger than the ${MAX_IMAGE_BYTES}-byte limit (MAX_IMAGE_BYTES); send a smaller image or use 'url'`,
    );
  });

  it("when a gzip form's file part inflates past MAX_IMAGE_BYTES, then 413 names the part and the limit", async () => {
    const form = await formBytes(Buffer.alloc(50 * 1024 * 1024));
    const answer = await post(`${svc.url}/detect`, gzipSync(form.bytes), {
      'content-type': form.type,
      'content-encoding': 'gzip',
    });
    expect(answer.status).to.equal(413);
    expect(answer.body.error_msg).to.equal(
      `The 'file' part is larger than the ${MAX_IMAGE_BYTES}-byte limit (MAX_IMAGE_BYTES); send a smaller image or use 'url'`,
    );
  });

  it('when a gzip form inflates past MAX_BODY_BYTES outside its file part, then 413 names MAX_BODY_BYTES', async () => {
    const { bytes, type } = await formBytes(obama);
    const boundary = /boundary=(.+)$/.exec(type)![1]!;
    // busboy skips a preamble unbounded; the count of inflated bytes does not.
    const padded = Buffer.concat([
      Buffer.alloc(MAX_BODY_BYTES, 'x'),
      Buffer.from(`\r\n--${boundary}`),
      bytes,
    ]);
    const answer = await post(`${svc.url}/detect`, gzipSync(padded), {
      'content-type': type,
      'content-encoding': 'gzip',
    });
    expect(answer.status).to.equal(413);
    expect(answer.body.error_msg).to.equal(
      `The body, inflated, is larger than the ${MAX_BODY_BYTES}-byte limit (MAX_BODY_BYTES); send a smaller image or use 'url'`,
    );
  });

  it('when a gzip JSON body inflates past MAX_BODY_BYTES, then 413 names the limit', async () => {
    const answer = await post(
      `${svc.url}/detect`,
      gzipSync(JSON.stringify({ img: 'A'.repeat(10 * MAX_BODY_BYTES) })),
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    );
    expect(answer.status).to.equal(413);
    expect(answer.body.error_msg).to.match(/larger than the 800000-byte limit \(MAX_BODY_BYTES\)/);
  });

  it('when a gzip body goes on past MAX_BODY_BYTES as sent yet inflates to nothing, then 413 says so', async () => {
    const empty = gzipSync(Buffer.alloc(0));
    const ex = exchange(svc, {
      ...AUTH,
      'content-type': 'image/jpeg',
      'content-encoding': 'gzip',
      'transfer-encoding': 'chunked',
    });
    const server = await ex.serverSocket;
    await stream(ex, Buffer.concat(Array.from({ length: (4 * MAX_BODY_BYTES) / empty.length }, () => empty)));
    expect(await ex.status).to.equal(413);
    expect(await closesSoon(ex)).to.equal(true);
    expect(server.bytesRead).to.be.below(MAX_BODY_BYTES + READ_SLACK);
    expect(bodyOf(ex).error_msg).to.equal(
      `The gzip body is larger than the ${MAX_BODY_BYTES}-byte limit (MAX_BODY_BYTES) as sent; send a smaller image or use 'url'`,
    );
  });

  it('when a gzip, deflate or br JSON body goes on past MAX_BODY_BYTES as sent yet inflates to nothing, then 413 says so', async () => {
    const bytes = 4 * MAX_BODY_BYTES;
    for (const [coding, endless] of Object.entries(NOTHING_FOREVER)) {
      const ex = exchange(svc, {
        ...AUTH,
        'content-type': 'application/json',
        'content-encoding': coding,
        'transfer-encoding': 'chunked',
      });
      const server = await ex.serverSocket;
      await stream(ex, endless(bytes));
      expect(await ex.status, coding).to.equal(413);
      expect(await closesSoon(ex), coding).to.equal(true);
      expect(server.bytesRead, coding).to.be.below(MAX_BODY_BYTES + READ_SLACK);
      expect(bodyOf(ex).error_msg).to.equal(
        `The ${coding} body is larger than the ${MAX_BODY_BYTES}-byte limit (MAX_BODY_BYTES) as sent; send a smaller image or use 'url'`,
      );
    }
  });

  it('when a body is not the coding it declares, raw, in a form or as JSON, then 400 says so', async () => {
    const form = await formBytes(obama);
    for (const [what, bytes, type] of [
      ['The body', obama, 'image/jpeg'],
      ['The multipart body', form.bytes, form.type],
      ['The request body', Buffer.from('{"img": "x"}'), 'application/json'],
    ] as const) {
      for (const coding of Object.keys(ENCODERS)) {
        const answer = await post(`${svc.url}/detect`, bytes, {
          'content-type': type,
          'content-encoding': coding,
        });
        expect(answer.status, `${what} ${coding}: ${answer.body.error_msg}`).to.equal(400);
        expect(answer.body.error_msg).to.equal(
          `${what} is not valid ${coding} data, as its Content-Encoding says; send it uncompressed or encoded as declared`,
        );
      }
    }
  });
});
