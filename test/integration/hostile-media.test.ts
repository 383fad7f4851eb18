import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import sharp from 'sharp';
import { image } from '../support/fixtures.js';
import { startFixtureServer, type FixtureServer } from '../support/http-fixture-server.js';
import {
  AnswerLog,
  expectError,
  expectNoLeaks,
  expectStillDetects,
  leaksIn,
  privateTmpdir,
  type PrivateTmpdir,
} from '../support/hostile.js';
import { startService, type TestService } from '../support/service.js';
import { CLIP, ffmpeg } from '../support/video-fixtures.js';

const NOT_DECODABLE = 'The image is truncated or corrupt and cannot be decoded; send the complete file';
const FORMATS = 'send a JPEG, PNG, WebP, GIF, TIFF, BMP or AVIF image';
const VIDEO_TRUNCATED = 'The video is truncated or incomplete; send the whole file';

/** A valid 2×2 24-bit BMP: a real image in a format libvips does not read. */
function bmp(): Buffer {
  const rowBytes = 8; // 2 pixels × 3 bytes, padded to 4
  const b = Buffer.alloc(54 + rowBytes * 2, 0x80);
  b.write('BM', 0, 'ascii');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(0, 6);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(2, 18);
  b.writeInt32LE(2, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(0, 30);
  b.writeUInt32LE(rowBytes * 2, 34);
  b.fill(0, 38, 54);
  return b;
}

/** Bytes that are no format at all, the same on every run. */
function noise(length: number): Buffer {
  const b = Buffer.alloc(length);
  let x = 0x2545f491;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  b[0] = 0x01; // no magic number starts so
  return b;
}

/** The clip with its index (moov, at the end of the file) damaged in two ways. */
function brokenClips(clip: Buffer): { cut: Buffer; offsets: Buffer } {
  const moov = clip.lastIndexOf(Buffer.from('moov')) - 4;
  const offsets = Buffer.from(clip);
  const stco = offsets.indexOf(Buffer.from('stco'), moov);
  // Chunk offsets far beyond the end of the file: the index points at data that is not there.
  offsets.fill(0xff, stco + 12, stco + 200);
  return { cut: clip.subarray(0, clip.length - 4000), offsets };
}

describe('hostile media: every bad file gets a clear error_code 1 answer, and the worker survives', function () {
  this.timeout(60_000);
  const log = new AnswerLog();
  const hits = new Map<string, number>();
  const files = new Map<string, { body: Buffer; type: string }>();
  let tmp: PrivateTmpdir | undefined;
  let svc: TestService;
  let server: FixtureServer;
  let obama: Buffer;
  let truncatedJpeg: Buffer;
  let truncatedPng: Buffer;

  const detect = (body: unknown) => log.post(`${svc.url}/detect`, body);
  const detectUrl = (name: string) => detect({ url: `${server.url}/${name}` });
  const svg = Buffer.from(
    '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><circle r="20"/></svg>',
  );

  before(async () => {
    obama = await readFile(image('obama.jpg'));
    const small = await readFile(image('obama_small.jpg'));
    truncatedJpeg = small.subarray(0, Math.floor(small.length / 2));
    const png = await sharp(small).png().toBuffer();
    truncatedPng = png.subarray(0, Math.floor(png.length / 2));
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'hostile-media-fixtures-'));
    try {
      await ffmpeg(
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=440:duration=1',
        '-c:a',
        'aac',
        path.join(scratch, 'song.mp4'),
      );
      files.set('/song.mp4', { body: await readFile(path.join(scratch, 'song.mp4')), type: 'video/mp4' });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
    const { cut, offsets } = brokenClips(await readFile(CLIP));
    files.set('/cut-index.mp4', { body: cut, type: 'video/mp4' });
    files.set('/bad-offsets.mp4', { body: offsets, type: 'video/mp4' });
    files.set('/empty.jpg', { body: Buffer.alloc(0), type: 'image/jpeg' });
    files.set('/page.html', {
      body: Buffer.from('<!doctype html><html><body>Not found</body></html>'),
      type: 'text/html',
    });
    files.set('/truncated.jpg', { body: truncatedJpeg, type: 'image/jpeg' });
    files.set('/truncated.png', { body: truncatedPng, type: 'image/png' });
    files.set('/drawing.svg', { body: svg, type: 'image/svg+xml' });
    files.set('/obama.jpg', { body: obama, type: 'image/jpeg' });

    server = await startFixtureServer((req: IncomingMessage, res: ServerResponse) => {
      const name = new URL(req.url ?? '/', 'http://x').pathname;
      const hit = (hits.get(name) ?? 0) + 1;
      hits.set(name, hit);
      if (name === '/flaky.jpg' && hit === 1) {
        // A transient network fault: the connection drops before any answer.
        req.socket.destroy();
        return;
      }
      if (name === '/busy.jpg') {
        res.writeHead(503).end('try later');
        return;
      }
      const file = name === '/flaky.jpg' ? files.get('/obama.jpg') : files.get(name);
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length }).end(file.body);
    });

    tmp = await privateTmpdir();
    svc = await startService({ JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '50', DOWNLOAD_STALL_TIMEOUT_MS: '500' });
  });

  after(async () => {
    await svc?.stop();
    await server?.close();
    await tmp?.restore();
  });

  it('when img is empty, then 400 asks for base64', async () => {
    expectError(await detect({ img: '' }), 400, "'img' is empty; send the image as base64");
  });

  it('when the URL answers zero bytes, then 422 says it returned no data', async () => {
    expectError(
      await detectUrl('empty.jpg'),
      422,
      'The URL returned no data (0 bytes); point it at an image or a video',
    );
  });

  it('when img is random bytes, then 422 says it is no supported image', async () => {
    expectError(
      await detect({ img: noise(4096).toString('base64') }),
      422,
      `The data is not an image in a supported format; ${FORMATS}`,
    );
  });

  it('when the URL serves an HTML page, then 422 says to link to the media itself', async () => {
    expectError(
      await detectUrl('page.html'),
      422,
      'The URL returned a text or HTML page, not an image or a video; link to the media file itself',
    );
  });

  it('when a JPEG or a PNG is truncated, by img or by url, then 422 says it is truncated or corrupt', async () => {
    expectError(await detect({ img: truncatedJpeg.toString('base64') }), 422, NOT_DECODABLE);
    expectError(await detect({ img: truncatedPng.toString('base64') }), 422, NOT_DECODABLE);
    expectError(await detectUrl('truncated.jpg'), 422, NOT_DECODABLE);
    expectError(await detectUrl('truncated.png'), 422, NOT_DECODABLE);
  });

  it('when the image is an SVG, by img or by url, then 422 names the format and the accepted ones', async () => {
    const refused = `Images in SVG format are not accepted; ${FORMATS}`;
    expectError(await detect({ img: svg.toString('base64') }), 422, refused);
    expectError(await detectUrl('drawing.svg'), 422, refused);
  });

  it('when the image is a tiny valid BMP, then it is decoded and has no face', async () => {
    const { status, body } = await detect({ img: bmp().toString('base64') });
    expect(status, body.error_msg).to.equal(200);
    expect(body.faces_obj['0'].region).to.deep.equal([]);
  });

  it('when a BMP header claims 60000x60000 pixels, then 413 names MAX_IMAGE_PIXELS', async () => {
    const lying = bmp();
    lying.writeInt32LE(60_000, 18);
    lying.writeInt32LE(60_000, 22);
    expectError(
      await detect({ img: lying.toString('base64') }),
      413,
      /60000x60000 = 3600000000 pixels, above the 40000000-pixel limit \(MAX_IMAGE_PIXELS\)/,
    );
  });

  it('when img has characters outside base64, then 400 says so', async () => {
    expectError(
      await detect({ img: `${obama.subarray(0, 300).toString('base64')}$%^&` }),
      400,
      "'img' is not valid base64: it contains characters outside the base64 alphabet or is cut short",
    );
  });

  it('when a data URI declares image/png but holds a JPEG, then 422 says both types', async () => {
    expectError(
      await detect({ img: `data:image/png;base64,${obama.toString('base64')}` }),
      422,
      "'img' declares image/png but holds jpeg data; fix the data URI's type or send plain base64",
    );
  });

  it('when img holds a video, then 400 says videos come by url', async () => {
    expectError(
      await detect({ img: (await readFile(CLIP)).toString('base64') }),
      400,
      "'img' holds a video; videos are accepted by 'url' only: host the file and send its URL",
    );
  });

  it('when the media has only an audio stream, then 422 says it has no video stream', async () => {
    expectError(
      await detectUrl('song.mp4'),
      422,
      'The media has no video stream; send an image or a video with a video track',
    );
  });

  it('when an MP4 index is cut short or points outside the file, then 422 says the video is truncated', async () => {
    expectError(await detectUrl('cut-index.mp4'), 422, VIDEO_TRUNCATED);
    expectError(await detectUrl('bad-offsets.mp4'), 422, VIDEO_TRUNCATED);
  });

  it('when the download is reset the first time, then the job retries and succeeds', async () => {
    const answer = await detectUrl('flaky.jpg');
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.body.faces_obj['0'].region).to.have.length(1);
    expect(hits.get('/flaky.jpg')).to.equal(2);
  });

  it('when the fault is the input (404, bad media), then it is fetched once; a 503 is retried JOB_ATTEMPTS times', async () => {
    expectError(await detectUrl('missing.jpg'), 502, 'Failed to download media from URL: HTTP 404');
    expect(hits.get('/missing.jpg')).to.equal(1);
    for (const name of ['/page.html', '/empty.jpg', '/truncated.jpg', '/song.mp4', '/cut-index.mp4'])
      expect(hits.get(name), name).to.equal(1);
    expectError(await detectUrl('busy.jpg'), 502, 'Failed to download media from URL: HTTP 503');
    expect(hits.get('/busy.jpg')).to.equal(2);
  });

  it('when the hostile media is over, then no scratch folder is left, no answer leaked internals, and detection still works', async () => {
    expect(await tmp!.scratchLeft(svc)).to.deep.equal([]);
    await expectStillDetects(svc, log);
    expectNoLeaks(log);
  });

  it('when an answer did carry a stack trace or a path, then the leak scan would catch it', () => {
    const err = new TypeError('boom');
    expect(leaksIn(JSON.stringify({ error_msg: err.stack }))).to.include.members([
      'a stack frame',
      'a raw error name',
    ]);
    expect(leaksIn('{"error_msg":"ENOENT: open /work/x/node_modules/y"}')).to.have.length(3);
  });
});
