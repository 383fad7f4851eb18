import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startRangeOrigin, type OriginFile, type RangeOriginOptions } from '../support/range-origin.js';
import { postJson, startService, type TestService } from '../support/service.js';
import { CLIP, ffmpeg, scratchDir } from '../support/video-fixtures.js';

const MIB = 1024 * 1024;
/** The worker's first look at a URL, made once per attempt of the job. */
const LOOK = 'bytes=0-4095';
const changed = (what: string) =>
  `Media at the URL could not be read: the file changed while it was read (its ${what} changed); send the request again once the file no longer changes`;

describe('videos read by range from an origin that changes the file or its answers midway', function () {
  this.timeout(120_000);
  let svc: TestService;
  let remove: () => Promise<void>;
  /** A 3 MB video (12 pieces), and another file of the same size: the same one with its middle inverted. */
  let video: Buffer;
  let other: Buffer;

  before(async () => {
    const scratch = await scratchDir();
    remove = scratch.remove;
    const file = path.join(scratch.dir, 'fifty-seconds.mp4');
    await ffmpeg('-stream_loop', '4', '-i', CLIP, '-map', '0:v:0', '-c', 'copy', file);
    video = await readFile(file);
    other = Buffer.from(video);
    for (let i = MIB; i < other.length - MIB; i++) other[i] = 255 - (other[i] ?? 0);
    svc = await startService({ RANGE_READ_MIN_BYTES: String(MIB) });
  });

  after(async () => {
    await svc.stop();
    await remove();
  });

  /** Asks for 5 frames of the video at an origin behaving as told; what it answered, and what it was asked. */
  async function detectFrom(options: RangeOriginOptions) {
    const origin = await startRangeOrigin(options);
    try {
      const started = Date.now();
      const { status, body } = await postJson(`${svc.url}/detect`, {
        url: `${origin.url}/v.mp4`,
        num_frames: 5,
      });
      const looks = origin.seen.filter((r) => r.range === LOOK).length;
      return { status, body, looks, seen: origin.seen, ms: Date.now() - started };
    } finally {
      await origin.close();
    }
  }

  /** The first file until the origin has answered the look and three pieces, then `next`. */
  const swappedAfterThirdPiece = (first: OriginFile, next: OriginFile) => (n: number) =>
    n <= 4 ? first : next;

  it('when the origin swaps the file after the third piece and ignores If-Range, then 422 says it changed, at once', async () => {
    const first = { bytes: video, etag: '"v1"', lastModified: 'Mon, 01 Dec 2025 10:00:00 GMT' };
    const next = { bytes: other, etag: '"v2"', lastModified: 'Mon, 01 Dec 2025 10:00:05 GMT' };
    const { status, body, looks, seen } = await detectFrom({ file: swappedAfterThirdPiece(first, next) });
    expect(status).to.equal(422);
    expect(body.error_msg).to.equal(changed('ETag'));
    expect(looks, 'one attempt, not retried').to.equal(1);
    expect(seen.length).to.be.greaterThan(4);
    expect(seen.slice(1).map((r) => r.ifRange)).to.deep.equal(seen.slice(1).map(() => '"v1"'));
  });

  it('when the origin answers a stale If-Range with the whole new file (200), then 422 says it changed, at once', async () => {
    const first = { bytes: video, etag: '"v1"' };
    const next = { bytes: other, etag: '"v2"' };
    const { status, body, looks } = await detectFrom({
      file: swappedAfterThirdPiece(first, next),
      honourIfRange: true,
    });
    expect(status).to.equal(422);
    expect(body.error_msg).to.equal(changed('ETag'));
    expect(looks).to.equal(1);
  });

  it('when the ETag is weak, then If-Range sends Last-Modified and a new weak ETag of the same second still fails the read', async () => {
    const lastModified = 'Mon, 01 Dec 2025 10:00:00 GMT';
    const first = { bytes: video, etag: 'W/"v1"', lastModified };
    const next = { bytes: other, etag: 'W/"v2"', lastModified };
    const { status, body, looks, seen } = await detectFrom({ file: swappedAfterThirdPiece(first, next) });
    expect(status).to.equal(422);
    expect(body.error_msg).to.equal(changed('ETag'));
    expect(looks).to.equal(1);
    expect(new Set(seen.slice(1).map((r) => r.ifRange))).to.deep.equal(new Set([lastModified]));
  });

  it('when the origin sends no validators and the file grows midway, then its new length fails the read as changed', async () => {
    const longer = Buffer.concat([video, Buffer.alloc(4096)]);
    const { status, body, looks } = await detectFrom({
      file: swappedAfterThirdPiece({ bytes: video }, { bytes: longer }),
    });
    expect(status).to.equal(422);
    expect(body.error_msg).to.equal(changed('length'));
    expect(looks).to.equal(1);
  });

  it('when the file and its answers stay the same, then If-Range rides along and the frames come back', async () => {
    const { status, body, seen } = await detectFrom({ file: () => ({ bytes: video, etag: '"v1"' }) });
    expect(status, body.error_msg).to.equal(200);
    expect(Object.keys(body.faces_obj)).to.have.length(5);
    expect(seen.slice(1).every((r) => r.ifRange === '"v1"')).to.equal(true);
  });

  it('when a piece comes back as a well-formed shorter range, then 502 says so at once, not retried', async () => {
    const { status, body, looks, seen, ms } = await detectFrom({
      file: () => ({ bytes: video }),
      // Every piece, as an origin that always answers short does; the look is answered in full.
      fault: (n, start, end) => (n > 1 ? { endAt: start + Math.floor((end - start) / 2) } : undefined),
    });
    expect(status).to.equal(502);
    expect(body.error_msg).to.match(
      /^Failed to download media from URL: the origin answered a shorter range than asked \(bytes \d+-\d+ for \d+-\d+\)$/,
    );
    expect(looks, 'one attempt, not retried').to.equal(1);
    // The look, the piece that was short, and the pieces that were in flight beside it.
    expect(seen.length).to.be.at.most(4);
    // Two retries would wait 1 s and 2 s (JOB_BACKOFF_MS) before their own reads.
    expect(ms).to.be.lessThan(2500);
  });

  it('when a piece is cut short of its own Content-Range, then the job is retried as a network fault and succeeds', async () => {
    // Every piece of the first attempt: the proxy reads a piece again when ffmpeg asks for it again.
    let attempts = 0;
    const { status, body, looks } = await detectFrom({
      file: () => ({ bytes: video }),
      fault: (_n, start, end) => {
        if (`bytes=${start}-${end}` === LOOK) attempts += 1;
        return attempts === 1 && `bytes=${start}-${end}` !== LOOK ? { closeAfter: 1000 } : undefined;
      },
    });
    expect(status, body.error_msg).to.equal(200);
    expect(Object.keys(body.faces_obj)).to.have.length(5);
    expect(looks, 'the first attempt failed, the second read the video').to.equal(2);
  });
});
