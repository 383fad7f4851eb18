import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { image, VIDEOS } from '../support/fixtures.js';
import { bodyOf, chunked, closesSoon, exchange, flood } from '../support/http-exchange.js';
import { postJson, startService, type TestService } from '../support/service.js';

const KEY = 'raw-uploads-key-0123';
const AUTH = { authorization: `Bearer ${KEY}` };
const MAX_IMAGE_BYTES = 600_000;
const MAX_BODY_BYTES = 800_000;
const MIB = 1024 * 1024;
/** What Node may read past a limit before it stops: its socket and stream buffers, not the body. */
const READ_SLACK = 256 * 1024;
const PATHS = ['/detect', '/interface/detect-api/detect_faces'];

interface Answer {
  status: number;
  body: any;
}

async function answerOf(res: Response): Promise<Answer> {
  return { status: res.status, body: await res.json() };
}

function postRaw(url: string, bytes: Buffer, type: string, headers: Record<string, string> = AUTH) {
  return fetch(url, { method: 'POST', headers: { 'content-type': type, ...headers }, body: bytes }).then(
    answerOf,
  );
}

function postForm(url: string, form: FormData, headers: Record<string, string> = AUTH) {
  return fetch(url, { method: 'POST', headers, body: form }).then(answerOf);
}

function formWith(file: Buffer | undefined, fields: Record<string, string> = {}, type = 'image/jpeg') {
  const form = new FormData();
  if (file) form.append('file', new Blob([file], { type }), 'photo.jpg');
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return form;
}

describe('raw and multipart uploads: POST /detect takes the image itself', function () {
  this.timeout(60_000);
  let svc: TestService;
  let obama: Buffer;
  let twoPeople: Buffer;
  let png: Buffer;

  before(async () => {
    svc = await startService({
      API_KEYS: KEY,
      MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES),
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    });
    obama = await readFile(image('obama.jpg'));
    twoPeople = await readFile(image('two_people.jpg'));
    png = await readFile(image('lin-manuel-miranda.png'));
  });
  after(async () => svc?.stop());

  describe('the answer', () => {
    it('when the same photo is sent as img, as a raw body and as a multipart file, then the answers are the same on both routes', async () => {
      const viaImg = await postJson(`${svc.url}/detect`, { img: obama.toString('base64') }, AUTH);
      expect(viaImg.status).to.equal(200);
      expect(Object.keys(viaImg.body.faces_obj)).to.deep.equal(['0']);
      for (const route of PATHS) {
        for (const answer of [
          await postRaw(`${svc.url}${route}`, obama, 'image/jpeg'),
          await postRaw(`${svc.url}${route}`, obama, 'application/octet-stream'),
          await postForm(`${svc.url}${route}`, formWith(obama)),
        ]) {
          expect(answer.status, route).to.equal(200);
          expect(answer.body).to.include({ error_code: 0, error_msg: 'SUCCESS' });
          expect(answer.body.job_id).to.be.a('string');
          expect(answer.body.faces_obj, route).to.deep.equal(viaImg.body.faces_obj);
        }
      }
    });

    it('when single_face and return_face_url come as query parameters of a raw body, then they are honoured', async () => {
      const all = await postRaw(`${svc.url}/detect`, twoPeople, 'image/jpeg');
      expect(all.body.faces_obj['0'].region).to.have.length(2);
      const one = await postRaw(
        `${svc.url}/detect?single_face=true&return_face_url=true&expand_ratio=0.5`,
        twoPeople,
        'image/jpeg',
      );
      expect(one.status).to.equal(200);
      const faces = one.body.faces_obj['0'];
      expect(faces.region).to.deep.equal([all.body.faces_obj['0'].region[0]]);
      expect(faces.face_urls).to.have.length(1);
      expect(faces.face_urls[0]).to.match(/^http:\/\/127\.0\.0\.1:\d+\/crops\/.+\?exp=\d+&sig=/);
    });

    it('when the options come as form fields, then they are honoured like JSON fields', async () => {
      const answer = await postForm(
        `${svc.url}/interface/detect-api/detect_faces`,
        formWith(twoPeople, { single_face: 'true', min_confidence: '0.5' }),
      );
      expect(answer.status).to.equal(200);
      expect(answer.body.faces_obj['0'].region).to.have.length(1);
    });

    it('when async=true is a query parameter, then the answer is a 202 with a job to poll', async () => {
      const answer = await postRaw(`${svc.url}/detect?async=true`, obama, 'image/jpeg');
      expect(answer.status).to.equal(202);
      expect(answer.body).to.include({ error_code: 0, error_msg: 'PENDING' });
    });

    it('when a PNG is declared image/jpeg, then the bytes decide and it is detected', async () => {
      const answer = await postRaw(`${svc.url}/detect`, png, 'image/jpeg');
      expect(answer.status).to.equal(200);
      expect(answer.body.faces_obj['0'].region).to.have.length(1);
    });
  });

  describe('options', () => {
    const refused = async (query: string, message: string | RegExp) => {
      const answer = await postRaw(`${svc.url}/detect?${query}`, obama, 'image/jpeg');
      expect(answer.status, query).to.equal(400);
      expect(answer.body).to.deep.include({ error_code: 1, faces_obj: {} });
      expect(answer.body.error_msg, query).to.match(
        typeof message === 'string' ? new RegExp(`^${escape(message)}$`) : message,
      );
    };
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

    it('when a query parameter breaks its rule, then 400 says so as for a JSON field', async () => {
      await refused('single_face=yes', "'single_face' must be a boolean (true or false)");
      await refused('num_frames=2.5', "'num_frames' must be an integer between 1 and 100");
      await refused('min_confidence=high', "'min_confidence' must be a number between 0 and 1");
      await refused('callback_url=ftp://x/y', "'callback_url' must be an http or https URL");
    });

    it('when a parameter is sent twice, or url is sent beside the image, then 400 names it', async () => {
      await refused('single_face=true&single_face=false', /^'single_face' is sent more than once/);
      await refused('url=https://example.com/a.jpg', /^'url' cannot be sent with an uploaded image/);
      const twice = await postForm(
        `${svc.url}/detect?single_face=true`,
        formWith(obama, { single_face: 'false' }),
      );
      expect(twice.status).to.equal(400);
      expect(twice.body.error_msg).to.match(/^'single_face' is sent more than once/);
    });

    it('when an unknown parameter is sent, then it is ignored as an unknown JSON field is', async () => {
      const answer = await postRaw(`${svc.url}/detect?colour=blue`, obama, 'image/jpeg');
      expect(answer.status).to.equal(200);
    });
  });

  describe('what the body holds', () => {
    const expectRefused = (answer: Answer, status: number, message: RegExp) => {
      expect(answer.status, answer.body.error_msg).to.equal(status);
      expect(answer.body).to.deep.include({ error_code: 1, faces_obj: {} });
      expect(answer.body.error_msg).to.match(message);
    };

    it('when text is declared image/jpeg, then 422 names what was declared and what was found', async () => {
      expectRefused(
        await postRaw(`${svc.url}/detect`, Buffer.from('hello, this is not a photo\n'), 'image/jpeg'),
        422,
        /^The body is declared image\/jpeg but holds text, not an image in a supported format; send a JPEG/,
      );
      expectRefused(
        await postForm(`${svc.url}/detect`, formWith(Buffer.from('<html></html>'), {}, 'image/png')),
        422,
        /^The 'file' part is declared image\/png but holds text/,
      );
    });

    it('when a zip is declared image/png, then 422 names the zip', async () => {
      const zip = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(100)]);
      expectRefused(
        await postRaw(`${svc.url}/detect`, zip, 'image/png'),
        422,
        /^The body is declared image\/png but holds application\/zip data/,
      );
    });

    it('when a video is sent as the body, or declared video/*, then 422 says videos go by url', async () => {
      const clip = await readFile(path.join(VIDEOS, 'short_hamilton_clip.mp4'));
      expectRefused(
        await postRaw(`${svc.url}/detect`, clip.subarray(0, 4096), 'application/octet-stream'),
        422,
        /^The body is declared application\/octet-stream but holds a mp4 video; videos are accepted by 'url' only/,
      );
      expectRefused(
        await postRaw(`${svc.url}/detect`, clip.subarray(0, 4096), 'video/mp4'),
        422,
        /^The body is declared video\/mp4; videos are accepted by 'url' only/,
      );
    });

    it('when the raw body is empty, then 400 asks for the bytes', async () => {
      expectRefused(
        await postRaw(`${svc.url}/detect`, Buffer.alloc(0), 'image/jpeg'),
        400,
        /^The body is empty/,
      );
    });

    it('when a form has no file part, two of them, or the file as a text field, then 400 says what to send', async () => {
      expectRefused(
        await postForm(`${svc.url}/detect`, formWith(undefined, { single_face: 'true' })),
        400,
        /^No 'file' part; send the image in a file part named 'file'$/,
      );
      const two = formWith(obama);
      two.append('file', new Blob([obama], { type: 'image/jpeg' }), 'again.jpg');
      expectRefused(await postForm(`${svc.url}/detect`, two), 400, /^More than one file part/);
      const other = formWith(undefined);
      other.append('photo', new Blob([obama], { type: 'image/jpeg' }), 'photo.jpg');
      expectRefused(await postForm(`${svc.url}/detect`, other), 400, /^Unexpected file part 'photo'/);
      expectRefused(
        await postForm(`${svc.url}/detect`, formWith(undefined, { file: 'AAAA' })),
        400,
        /^'file' is sent as a text field/,
      );
    });

    it('when multipart/form-data comes without a boundary, then 400', async () => {
      expectRefused(
        await postRaw(`${svc.url}/detect`, Buffer.from('x'), 'multipart/form-data'),
        400,
        /^The multipart body cannot be read/,
      );
    });
  });

  describe('limits, while streaming', () => {
    it('when a raw body declares more than MAX_IMAGE_BYTES, then 413 comes before a byte is sent', async () => {
      const ex = exchange(svc, {
        ...AUTH,
        'content-type': 'image/jpeg',
        'content-length': String(MAX_IMAGE_BYTES + 1),
      });
      expect(await ex.status).to.equal(413);
      await ex.closed;
      expect(bodyOf(ex).error_msg).to.equal(
        `The body declares ${MAX_IMAGE_BYTES + 1} bytes (Content-Length), above the ${MAX_IMAGE_BYTES}-byte limit (MAX_IMAGE_BYTES); send a smaller image or use 'url'`,
      );
    });

    it('when a chunked raw body passes MAX_IMAGE_BYTES, then 413 comes and the server stops reading', async () => {
      const ex = exchange(svc, { ...AUTH, 'content-type': 'image/jpeg', 'transfer-encoding': 'chunked' });
      const server = await ex.serverSocket;
      await flood(ex, 8 * MIB);
      expect(await ex.status).to.equal(413);
      expect(await closesSoon(ex)).to.equal(true);
      expect(server.bytesRead).to.be.below(MAX_IMAGE_BYTES + READ_SLACK);
      expect(bodyOf(ex).error_msg).to.equal(
        `The body is larger than the ${MAX_IMAGE_BYTES}-byte limit (MAX_IMAGE_BYTES); send a smaller image or use 'url'`,
      );
    });

    it('when a multipart file part passes MAX_IMAGE_BYTES, then 413 comes and the server stops reading', async () => {
      const boundary = 'raw-uploads-boundary';
      const ex = exchange(svc, {
        ...AUTH,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'transfer-encoding': 'chunked',
      });
      const server = await ex.serverSocket;
      await ex.write(
        chunked(
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
          ),
        ),
      );
      await flood(ex, 8 * MIB);
      expect(await ex.status).to.equal(413);
      expect(await closesSoon(ex)).to.equal(true);
      expect(server.bytesRead).to.be.below(MAX_IMAGE_BYTES + READ_SLACK);
      expect(bodyOf(ex).error_msg).to.equal(
        `The 'file' part is larger than the ${MAX_IMAGE_BYTES}-byte limit (MAX_IMAGE_BYTES); send a smaller image or use 'url'`,
      );
    });

    it('when a multipart body declares more than MAX_BODY_BYTES, then 413 comes before a byte is sent', async () => {
      const ex = exchange(svc, {
        ...AUTH,
        'content-type': 'multipart/form-data; boundary=b',
        'content-length': String(MAX_BODY_BYTES + 1),
      });
      expect(await ex.status).to.equal(413);
      expect(bodyOf(ex).error_msg).to.match(/above the 800000-byte limit \(MAX_BODY_BYTES\)/);
      ex.destroy();
    });
  });

  describe('the body budget', () => {
    let small: TestService;
    before(async () => {
      small = await startService(
        { API_KEYS: KEY, MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES), MAX_INFLIGHT_BODY_BYTES: '1000000' },
        { worker: false },
      );
    });
    after(async () => small?.stop());

    it('when raw and multipart uploads in flight fill MAX_INFLIGHT_BODY_BYTES, then the next is refused with 503 until they end', async () => {
      const held = [
        exchange(small, { ...AUTH, 'content-type': 'image/jpeg', 'content-length': '500000' }),
        exchange(small, {
          ...AUTH,
          'content-type': 'multipart/form-data; boundary=b',
          'content-length': '500000',
        }),
      ];
      await Promise.all(held.map((ex) => ex.serverSocket));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const refused = exchange(small, { ...AUTH, 'content-type': 'image/jpeg', 'content-length': '1000' });
      expect(await refused.status).to.equal(503);
      expect(refused.received()).to.match(/\r\nRetry-After: 5\r\n/i);
      for (const ex of [...held, refused]) ex.destroy();
      await Promise.all(held.map((ex) => ex.closed));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const admitted = exchange(small, { ...AUTH, 'content-type': 'image/jpeg', 'content-length': '3' });
      await admitted.write(Buffer.from('abc'));
      expect(await admitted.status).to.equal(422);
      admitted.destroy();
    });
  });

  describe('authentication comes before the body', () => {
    it('when the key is wrong and the body never comes, then 401 comes at once and nothing is read', async () => {
      const started = performance.now();
      const ex = exchange(svc, {
        authorization: 'Bearer wrong',
        'content-type': 'image/jpeg',
        'content-length': String(500_000),
      });
      const server = await ex.serverSocket;
      expect(await ex.status).to.equal(401);
      expect(performance.now() - started).to.be.below(1000);
      await ex.closed;
      expect(bodyOf(ex).error_msg).to.match(/^Invalid API key/);
      expect(server.bytesRead).to.be.below(1024);
    });

    it('when no key is sent with a multipart body still streaming, then 401 comes and the server stops reading', async () => {
      const ex = exchange(svc, {
        'content-type': 'multipart/form-data; boundary=b',
        'transfer-encoding': 'chunked',
      });
      const server = await ex.serverSocket;
      await flood(ex, 8 * MIB);
      expect(await ex.status).to.equal(401);
      expect(await closesSoon(ex)).to.equal(true);
      expect(bodyOf(ex).error_msg).to.match(/^Missing API key/);
      expect(server.bytesRead).to.be.below(READ_SLACK);
    });

    it('when the client waits for 100 Continue, then a wrong key gets 401 without it and a right key gets it', async () => {
      const refused = exchange(svc, {
        authorization: 'Bearer wrong',
        'content-type': 'image/jpeg',
        'content-length': String(obama.length),
        expect: '100-continue',
      });
      expect(await refused.status).to.equal(401);
      await refused.closed;
      expect(refused.received()).to.not.include('100 Continue');

      const accepted = exchange(svc, {
        ...AUTH,
        'content-type': 'image/jpeg',
        'content-length': String(obama.length),
        connection: 'close',
        expect: '100-continue',
      });
      while (!accepted.received().includes('\r\n\r\n')) await new Promise((r) => setTimeout(r, 10));
      expect(accepted.received()).to.equal('HTTP/1.1 100 Continue\r\n\r\n');
      await accepted.write(obama);
      expect(await accepted.status).to.equal(200);
      await accepted.closed;
      expect(bodyOf(accepted).error_msg).to.equal('SUCCESS');
    });
  });
});
