import { expect } from 'chai';
import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { URL_REFUSALS } from '../../shared/errors/errors.js';
import { serveFilesWithRanges } from '../support/range-file-server.js';
import { startFixtureServer, type FixtureServer } from '../support/http-fixture-server.js';
import { postJson, startService, type TestService } from '../support/service.js';
import { CLIP, ffmpeg, scratchDir } from '../support/video-fixtures.js';

const MIB = 1024 * 1024;

describe('long videos read by range: only what the sampled frames need, through the URL guard', function () {
  this.timeout(120_000);
  let svc: TestService;
  let ranged: Awaited<ReturnType<typeof serveFilesWithRanges>>;
  let plain: FixtureServer;
  let remove: () => Promise<void>;
  let size: number;
  let longFile: string;
  let noIndexFile: string;
  let files: Parameters<typeof serveFilesWithRanges>[0];

  before(async () => {
    const scratch = await scratchDir();
    remove = scratch.remove;
    // An hour of the 640×360 clip (190 MB) with its index at the end, as a stream copy writes it.
    const long = path.join(scratch.dir, 'an-hour.mp4');
    await ffmpeg('-stream_loop', '391', '-i', CLIP, '-map', '0:v:0', '-c', 'copy', long);
    size = (await stat(long)).size;
    longFile = long;
    // An AVI without idx1, as a streaming writer leaves one: only its whole file tells its frames' times.
    const avi = path.join(scratch.dir, 'indexed.avi');
    await ffmpeg('-i', CLIP, '-an', '-c:v', 'mjpeg', '-q:v', '3', avi);
    const bytes = await readFile(avi);
    const unindexed = bytes.subarray(0, bytes.lastIndexOf(Buffer.from('idx1')));
    unindexed.writeUInt32LE(unindexed.length - 8, 4);
    noIndexFile = path.join(scratch.dir, 'no-index.avi');
    await writeFile(noIndexFile, unindexed);
    files = {
      '/long.mp4': { file: long, type: 'video/mp4' },
      '/no-index.avi': { file: noIndexFile, type: 'video/x-msvideo' },
    };
    ranged = await serveFilesWithRanges(files);
    // The same files from an origin that ignores Range: downloaded whole.
    plain = await serveFilesWithRanges(files, { ranges: false });
    svc = await startService({ RANGE_READ_MIN_BYTES: String(MIB) });
  });

  after(async () => {
    await svc.stop();
    await ranged.close();
    await plain.close();
    await remove();
  });

  it('when the origin serves ranges, then 5 frames of an hour read under 10 % of it and answer as a download would', async () => {
    expect(size, 'the video is large enough to be read by range').to.be.greaterThan(100 * MIB);
    const byRange = await postJson(`${svc.url}/detect`, { url: `${ranged.url}/long.mp4`, num_frames: 5 });
    expect(byRange.status, byRange.body.error_msg).to.equal(200);
    const sent = ranged.stats.bytesSent.get('/long.mp4') ?? 0;
    expect(sent / size, `${sent} of ${size} bytes read`).to.be.lessThan(0.1);
    expect(ranged.stats.rangeRequests.get('/long.mp4')).to.equal(ranged.stats.requests.get('/long.mp4'));

    const downloaded = await postJson(`${svc.url}/detect`, { url: `${plain.url}/long.mp4`, num_frames: 5 });
    expect(downloaded.status, downloaded.body.error_msg).to.equal(200);
    const keys = Object.keys(downloaded.body.faces_obj);
    expect(Object.keys(byRange.body.faces_obj)).to.deep.equal(keys);
    expect(keys).to.deep.equal(['0', '21560', '43120', '64680', '86240']);
    for (const key of keys) {
      const [a, b] = [byRange.body.faces_obj[key], downloaded.body.faces_obj[key]];
      expect(a.frame_time, `frame ${key}`).to.be.closeTo(b.frame_time, 0.0015);
      expect(a.region, `frame ${key}`).to.deep.equal(b.region);
    }
  });

  it('when an AVI read by range has no index, then it is downloaded through the guard instead and answers as a download would', async () => {
    const byRange = await postJson(`${svc.url}/detect`, { url: `${ranged.url}/no-index.avi`, num_frames: 5 });
    expect(byRange.status, byRange.body.error_msg).to.equal(200);
    const whole = (await stat(noIndexFile)).size;
    expect(whole, 'the video is large enough to be read by range').to.be.greaterThan(MIB);
    expect(ranged.stats.rangeRequests.get('/no-index.avi')).to.equal(
      ranged.stats.requests.get('/no-index.avi'),
    );
    expect(ranged.stats.bytesSent.get('/no-index.avi'), 'the whole file was read').to.be.at.least(whole);

    const downloaded = await postJson(`${svc.url}/detect`, {
      url: `${plain.url}/no-index.avi`,
      num_frames: 5,
    });
    expect(downloaded.status, downloaded.body.error_msg).to.equal(200);
    expect(byRange.body.faces_obj).to.deep.equal(downloaded.body.faces_obj);
    expect(Object.keys(byRange.body.faces_obj)).to.deep.equal(['0', '55', '110', '165', '220']);
  });

  it('when the origin stops serving ranges midway, then 502 says so and the job is not retried', async () => {
    let requests = 0;
    const fickle = await startFixtureServer((req, res) => {
      requests += 1;
      // The first answer offers ranges; every later one sends the whole file instead.
      if (requests === 1) {
        res.writeHead(206, { 'content-range': `bytes 0-${size - 1}/${size}`, 'content-length': size });
        createReadStream(longFile).pipe(res);
        return;
      }
      res.writeHead(200, { 'content-length': size });
      createReadStream(longFile).pipe(res);
    });
    try {
      const { status, body } = await postJson(`${svc.url}/detect`, {
        url: `${fickle.url}/v.mp4`,
        num_frames: 2,
      });
      expect(status).to.equal(502);
      expect(body.error_msg).to.equal(
        'Failed to download media from URL: the origin stopped serving the ranges it offered (HTTP 200)',
      );
      expect(requests, 'one look, one refused range, no retry').to.equal(2);
    } finally {
      await fickle.close();
    }
  });

  it('when a range request is redirected to an internal address, then the guard refuses it and nothing internal is reached', async () => {
    let internalHits = 0;
    const internal = await startFixtureServer((_req, res) => {
      internalHits += 1;
      res.writeHead(206).end();
    });
    let requests = 0;
    // 127.0.0.2 stands for a public origin; after the first look it sends every range elsewhere.
    const origin = http.createServer((_req, res) => {
      requests += 1;
      if (requests === 1) {
        res.writeHead(206, { 'content-range': `bytes 0-4095/${size}`, 'content-length': 4096 });
        createReadStream(longFile, { start: 0, end: 4095 }).pipe(res);
        return;
      }
      res.writeHead(302, { location: `${internal.url}/steal` }).end();
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.2', resolve));
    const guarded = await startService(
      { ALLOW_PRIVATE_URLS: 'false', RANGE_READ_MIN_BYTES: String(MIB) },
      { isAllowedAddress: (ip) => ip === '127.0.0.2' },
    );
    try {
      const { port } = origin.address() as AddressInfo;
      const { status, body } = await postJson(`${guarded.url}/detect`, {
        url: `http://127.0.0.2:${port}/v.mp4`,
      });
      expect(status).to.equal(400);
      expect(body.error_msg).to.equal(`'url' is refused: ${URL_REFUSALS.redirectAddress}`);
      expect(internalHits).to.equal(0);
    } finally {
      await guarded.stop();
      origin.closeAllConnections();
      await new Promise((resolve) => origin.close(resolve));
      await internal.close();
    }
  });

  it('when the reads would pass MAX_VIDEO_BYTES, then 413 names it, however the reads are split', async () => {
    const small = await startService({ RANGE_READ_MIN_BYTES: String(MIB), MAX_VIDEO_BYTES: String(MIB) });
    try {
      const { status, body } = await postJson(`${small.url}/detect`, {
        url: `${ranged.url}/long.mp4`,
        num_frames: 5,
      });
      expect(status).to.equal(413);
      expect(body.error_msg).to.equal(
        'Reading the video by range took more than the 1048576-byte budget (MAX_VIDEO_BYTES); send a shorter video or fewer frames',
      );
    } finally {
      await small.stop();
    }
  });

  it('when return_face_url is asked of a ranged video, then its crops come back too', async () => {
    const { status, body } = await postJson(`${svc.url}/detect`, {
      url: `${ranged.url}/long.mp4`,
      num_frames: 2,
      return_face_url: true,
    });
    expect(status, body.error_msg).to.equal(200);
    const withFaces = Object.values(
      body.faces_obj as Record<string, { region: unknown[]; face_urls: string[] }>,
    ).filter((f) => f.region.length > 0);
    expect(withFaces).to.not.be.empty;
    for (const frame of withFaces) expect(frame.face_urls).to.have.length(frame.region.length);
  });
});
