import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import sharp from 'sharp';
import { image } from '../support/fixtures.js';
import { startS3Server, type S3Server } from '../support/s3-server.js';
import { postJson, startService, type TestService } from '../support/service.js';

type Region = [number, number, number, number];
type Point = [number, number];
const b64 = (buf: Buffer) => buf.toString('base64');

/** What every storage must give: URLs to JPEGs of exactly crop_region's size, showing one face. */
async function checkCrops(svc: TestService, frame: any, imageSize: { width: number; height: number }) {
  expect(frame.face_urls).to.have.length(frame.region.length);
  expect(frame.crop_region).to.have.length(frame.region.length);
  expect(frame.crop_landmarks).to.have.length(frame.region.length);
  for (let i = 0; i < frame.region.length; i++) {
    const res = await fetch(frame.face_urls[i]);
    expect(res.status, frame.face_urls[i]).to.equal(200);
    const jpeg = Buffer.from(await res.arrayBuffer());
    const meta = await sharp(jpeg).metadata();
    const [cx, cy, cw, ch] = frame.crop_region[i] as Region;
    expect(meta.format).to.equal('jpeg');
    expect([meta.width, meta.height]).to.deep.equal([cw, ch]);
    expect(cx).to.be.at.least(0);
    expect(cy).to.be.at.least(0);
    expect(cx + cw).to.be.at.most(imageSize.width);
    expect(cy + ch).to.be.at.most(imageSize.height);
    (frame.crop_landmarks[i] as Point[]).forEach(([x, y], k) => {
      expect([x + cx, y + cy]).to.deep.equal(frame.landmarks[i][k]);
    });
    const again = (await postJson(`${svc.url}/detect`, { img: b64(jpeg) })).body.faces_obj['0'];
    expect(again.region, 'one face in the crop').to.have.length(1);
    // The detector sees the crop as a new picture with less context, so its landmarks move a little:
    // measured up to ~6% of the face width on the fixtures, mostly at the mouth corners.
    const width = frame.region[i][2] as number;
    const errors = (again.landmarks[0] as Point[]).map(([x, y], k) => {
      const [ex, ey] = frame.crop_landmarks[i][k] as Point;
      return Math.hypot(x - ex, y - ey);
    });
    errors.forEach((e, k) => expect(e, `landmark ${k}`).to.be.at.most(Math.max(4, 0.08 * width)));
    expect(errors.reduce((a, b) => a + b, 0) / errors.length, 'mean landmark distance').to.be.at.most(
      Math.max(3, 0.04 * width),
    );
  }
}

describe('return_face_url', function () {
  let twoPeople: Buffer;
  before(async () => {
    twoPeople = await readFile(image('two_people.jpg'));
  });

  describe('with crops on local disk, served by the gateway', () => {
    let svc: TestService;
    before(async () => {
      svc = await startService();
    });
    after(async () => svc.stop());

    it('when asked for, then every face gets a URL of a JPEG of its crop_region, holding that one face', async () => {
      const { status, body } = await postJson(`${svc.url}/detect`, {
        img: b64(twoPeople),
        return_face_url: true,
      });
      expect(status).to.equal(200);
      const frame = body.faces_obj['0'];
      expect(frame.region).to.have.length(2);
      for (const url of frame.face_urls) {
        expect(url).to.match(
          new RegExp(
            `^${svc.url}/crops/\\d{4}-\\d{2}-\\d{2}/${body.job_id}/0_\\d\\.jpg\\?exp=\\d+&sig=[\\w-]{43}$`,
          ),
        );
      }
      const meta = await sharp(twoPeople).metadata();
      await checkCrops(svc, frame, { width: meta.width, height: meta.height });
    });

    it('when expand_ratio is set, then crop_region is the box grown by that ratio on every side', async () => {
      const frame = (
        await postJson(`${svc.url}/detect`, { img: b64(twoPeople), return_face_url: true, expand_ratio: 0.5 })
      ).body.faces_obj['0'];
      const [x, y, w, h] = frame.region[0] as Region;
      const [cx, cy, cw, ch] = frame.crop_region[0] as Region;
      expect(cx).to.be.closeTo(Math.max(0, x - 0.5 * w), 1);
      expect(cy).to.be.closeTo(Math.max(0, y - 0.5 * h), 1);
      expect(cx + cw).to.be.closeTo(x + w + 0.5 * w, 1);
      expect(cy + ch).to.be.closeTo(y + h + 0.5 * h, 1);
    });

    it('when a face touches the border, then its crop region is clamped to the image', async () => {
      const obama = await readFile(image('obama.jpg'));
      const cut = await sharp(obama)
        .extract({ left: 420, top: 110, width: 490, height: 700 })
        .jpeg()
        .toBuffer();
      const frame = (await postJson(`${svc.url}/detect`, { img: b64(cut), return_face_url: true })).body
        .faces_obj['0'];
      expect(frame.region).to.have.length(1);
      expect(frame.crop_region[0][0]).to.equal(0);
      expect(frame.crop_region[0][1]).to.equal(0);
      await checkCrops(svc, frame, { width: 490, height: 700 });
    });

    it('when return_face_url is not set, then the three crop fields stay null', async () => {
      const frame = (await postJson(`${svc.url}/detect`, { img: b64(twoPeople) })).body.faces_obj['0'];
      expect([frame.face_urls, frame.crop_region, frame.crop_landmarks]).to.deep.equal([null, null, null]);
    });
  });

  describe('with crops in an S3-compatible store', () => {
    let s3: S3Server;
    let svc: TestService;
    before(async () => {
      s3 = await startS3Server();
      svc = await startService({ ...s3.env, JOB_ATTEMPTS: '1' });
    });
    after(async () => {
      await svc.stop();
      await s3.close();
    });

    it("when asked for, then the gateway's signed links stream JPEGs of crop_region from the bucket, each holding one face", async () => {
      const { body } = await postJson(`${svc.url}/detect`, { img: b64(twoPeople), return_face_url: true });
      const frame = body.faces_obj['0'];
      for (const url of frame.face_urls) {
        // One link form for both stores: the bucket itself is never handed out.
        expect(url).to.match(new RegExp(`^${svc.url}/crops/\\S+/${body.job_id}/0_\\d\\.jpg\\?exp=\\d+&sig=`));
        expect((await fetch(url.slice(0, url.indexOf('?')))).status, 'unsigned').to.equal(403);
      }
      const meta = await sharp(twoPeople).metadata();
      await checkCrops(svc, frame, { width: meta.width, height: meta.height });
    });

    it('when the store goes down, then crop requests fail naming storage, and requests without crops go on', async () => {
      await s3.close();
      const failed = await postJson(`${svc.url}/detect`, { img: b64(twoPeople), return_face_url: true });
      expect(failed.status).to.equal(502);
      expect(failed.body.error_code).to.equal(1);
      expect(failed.body.error_msg).to.match(/storage/i);
      expect(failed.body.faces_obj).to.deep.equal({});
      const plain = await postJson(`${svc.url}/detect`, { img: b64(twoPeople) });
      expect(plain.status).to.equal(200);
      expect(plain.body.faces_obj['0'].region).to.have.length(2);
      const ready = await fetch(`${svc.url}/readyz`);
      expect(ready.status).to.equal(503);
      expect(((await ready.json()) as any).checks.storage.ok).to.equal(false);
    });
  });
});
