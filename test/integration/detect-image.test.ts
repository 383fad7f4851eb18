import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import sharp from 'sharp';
import { regionIou as iou, type Region } from '../support/regions.js';
import { image } from '../support/fixtures.js';
import { loadFacesDev, referenceLandmarks } from '../support/faces-dev.js';
import { getJson, postJson, startService, type TestService } from '../support/service.js';

const b64 = (buf: Buffer) => buf.toString('base64');

describe('POST /detect with images', function () {
  let svc: TestService;
  let obama: Buffer;
  let obamaRegion: Region;

  before(async () => {
    svc = await startService();
    obama = await readFile(image('obama.jpg'));
  });
  after(async () => svc.stop());

  const detect = (body: object) => postJson(`${svc.url}/detect`, body);

  it('when a portrait is sent as base64, then the answer follows the contract field by field', async () => {
    const { status, body } = await detect({ img: b64(obama) });
    expect(status).to.equal(200);
    expect(Object.keys(body).sort()).to.deep.equal([
      'error_code',
      'error_msg',
      'faces_obj',
      'job_id',
      'tracks',
    ]);
    expect(body.tracks).to.equal(null);
    expect(body.error_code).to.equal(0);
    expect(body.error_msg).to.equal('SUCCESS');
    expect(body.job_id).to.be.a('string').and.not.be.empty;
    expect(Object.keys(body.faces_obj)).to.deep.equal(['0']);
    const frame = body.faces_obj['0'];
    expect(Object.keys(frame).sort()).to.deep.equal(
      [
        'crop_landmarks',
        'crop_region',
        'face_ids',
        'face_urls',
        'frame_time',
        'landmarks',
        'landmarks_str',
        'pose',
        'quality',
        'region',
        'removed',
        'rotation',
        'scores',
      ].sort(),
    );
    expect(frame.region).to.have.length(1);
    const [x, y, w, h] = frame.region[0] as Region;
    for (const v of [x, y, w, h]) expect(Number.isInteger(v)).to.equal(true);
    expect(x).to.be.within(300, 450);
    expect(y).to.be.within(40, 150);
    expect(w).to.be.within(180, 300);
    expect(h).to.be.within(250, 400);
    expect(x + w).to.be.at.most(910);
    expect(y + h).to.be.at.most(1137);
    obamaRegion = frame.region[0];
    expect(frame.landmarks).to.have.length(1);
    expect(frame.landmarks[0]).to.have.length(6);
    for (const [px, py] of frame.landmarks[0]) {
      expect(Number.isInteger(px) && Number.isInteger(py)).to.equal(true);
      expect(px).to.be.within(x, x + w);
      expect(py).to.be.within(y, y + h);
    }
    const expectedStr = (frame.landmarks[0] as number[][])
      .slice(0, 4)
      .map(([a, b]) => `${a},${b}`)
      .join(':');
    expect(frame.landmarks_str).to.deep.equal([expectedStr]);
    expect(frame.landmarks_str[0]).to.match(/^\d+,\d+:\d+,\d+:\d+,\d+:\d+,\d+$/);
    expect(frame.scores).to.have.length(1);
    expect(frame.scores[0]).to.be.within(0.6, 1);
    expect(frame.face_ids).to.deep.equal([0]);
    expect(frame.removed).to.deep.equal([]);
    expect(frame.frame_time).to.equal(null);
    expect(frame.face_urls).to.equal(null);
    expect(frame.crop_region).to.equal(null);
    expect(frame.crop_landmarks).to.equal(null);
    expect(frame.rotation).to.equal(0);
    expect(frame.pose).to.have.length(1);
    const { yaw, pitch, roll } = frame.pose[0];
    expect([yaw, pitch, roll].map((v: number) => Math.abs(v) <= 20)).to.deep.equal([true, true, true]);
    expect(frame.quality).to.have.length(1);
    expect(frame.quality[0].sharpness).to.be.within(0.5, 1);
    expect(frame.quality[0].brightness).to.be.within(0.2, 0.8);
  });

  it('when faces are upright, then landmarks come as left eye, right eye, nose, mouth centre, left and right mouth corner', async () => {
    for (const name of ['obama.jpg', 'biden.jpg', 'two_people.jpg', 'lin-manuel-miranda.png']) {
      const { body } = await detect({ img: b64(await readFile(image(name))) });
      const frame = body.faces_obj['0'];
      expect(frame.landmarks.length, name).to.be.greaterThan(0);
      for (const [le, re, nose, mouth, lm, rm] of frame.landmarks as [number, number][][]) {
        expect(le![0], `${name}: left eye left of right eye`).to.be.lessThan(re![0]);
        expect(lm![0], `${name}: left mouth corner left of right`).to.be.lessThan(rm![0]);
        expect(nose![1], `${name}: nose below the eyes`).to.be.greaterThan(Math.max(le![1], re![1]));
        expect(mouth![1], `${name}: mouth below the nose`).to.be.greaterThan(nose![1]);
        expect(
          Math.abs(mouth![0] - (lm![0] + rm![0]) / 2),
          `${name}: mouth centre between corners`,
        ).to.be.at.most(1);
        expect(Math.abs(mouth![1] - (lm![1] + rm![1]) / 2)).to.be.at.most(1);
      }
    }
  });

  it('when the photo has two people, then both are found, largest first, and single_face keeps the largest', async () => {
    const two = b64(await readFile(image('two_people.jpg')));
    const all = (await detect({ img: two })).body.faces_obj['0'];
    expect(all.region).to.have.length(2);
    const areas = (all.region as Region[]).map((r) => r[2] * r[3]);
    expect(areas[0]).to.be.at.least(areas[1]!);
    expect(all.face_ids).to.deep.equal([0, 1]);
    expect(all.landmarks).to.have.length(2);
    expect(all.scores).to.have.length(2);
    const single = (await detect({ img: two, single_face: true })).body.faces_obj['0'];
    expect(single.region).to.deep.equal([all.region[0]]);
    expect(single.landmarks).to.deep.equal([all.landmarks[0]]);
    expect(single.face_ids).to.deep.equal([0]);
  });

  it("when min_confidence is above a face's score, then that face is dropped, and kept faces score at least that", async () => {
    const two = b64(await readFile(image('two_people.jpg')));
    const all = (await detect({ img: two, min_confidence: 0.3 })).body.faces_obj['0'];
    const scores = all.scores as number[];
    const cut = (Math.max(...scores) + Math.min(...scores)) / 2;
    const some = (await detect({ img: two, min_confidence: cut })).body.faces_obj['0'];
    expect(some.scores.length).to.be.lessThan(scores.length);
    for (const s of some.scores as number[]) expect(s).to.be.at.least(cut);
    const none = (await detect({ img: two, min_confidence: 1 })).body;
    expect(none.error_code).to.equal(0);
    expect(none.faces_obj['0'].region).to.deep.equal([]);
    expect(none.faces_obj['0'].landmarks_str).to.deep.equal([]);
  });

  it('when the JPEG is stored rotated with an EXIF orientation, then coordinates are in the displayed image', async () => {
    const upright = await readFile(image('obama_small.jpg'));
    const stored = await sharp(upright).rotate(270).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const meta = await sharp(stored).metadata();
    expect([meta.width, meta.height, meta.orientation]).to.deep.equal([240, 320, 6]);
    const a = (await detect({ img: b64(upright) })).body.faces_obj['0'];
    const b = (await detect({ img: b64(stored) })).body.faces_obj['0'];
    expect(b.region).to.have.length(1);
    expect(iou(a.region[0], b.region[0])).to.be.greaterThan(0.8);
    expect(b.landmarks[0][0][0]).to.be.lessThan(b.landmarks[0][1][0]);
  });

  it('when the image is a PNG with alpha or a greyscale JPEG, then the face is found in place', async () => {
    const { data, info } = await sharp(obama).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    for (let y = 0; y < info.height; y++) {
      for (let x = 0; x < info.width; x++) if (x < 150 || y > 900) data[(y * info.width + x) * 4 + 3] = 0;
    }
    const png = await sharp(data, { raw: info }).png().toBuffer();
    expect((await sharp(png).metadata()).hasAlpha).to.equal(true);
    const grey = await sharp(obama).toColourspace('b-w').jpeg().toBuffer();
    expect((await sharp(grey).metadata()).channels).to.equal(1);
    for (const img of [png, grey]) {
      const frame = (await detect({ img: b64(img) })).body.faces_obj['0'];
      expect(frame.region).to.have.length(1);
      expect(iou(frame.region[0], obamaRegion)).to.be.greaterThan(0.7);
    }
  });

  it('when a face fills the whole image, then exactly one box is found on it', async () => {
    const [x, y, w, h] = obamaRegion;
    const crop = await sharp(obama).extract({ left: x, top: y, width: w, height: h }).jpeg().toBuffer();
    const frame = (await detect({ img: b64(crop) })).body.faces_obj['0'];
    expect(frame.region).to.have.length(1);
    expect(iou(frame.region[0], [0, 0, w, h])).to.be.greaterThan(0.6);
    const big = await sharp(obama)
      .extract({ left: x - 20, top: y - 20, width: w + 40, height: h + 40 })
      .resize({ width: 1040 })
      .jpeg()
      .toBuffer();
    const bigFrame = (await detect({ img: b64(big) })).body.faces_obj['0'];
    expect(bigFrame.region).to.have.length(1);
    const s = 1040 / (w + 40);
    expect(iou(bigFrame.region[0], [20 * s, 20 * s, w * s, h * s])).to.be.greaterThan(0.5);
  });

  it('when a portrait is upscaled three times, then exactly one box is found, on the face', async () => {
    const up = await sharp(obama)
      .resize({ width: 910 * 3 })
      .jpeg()
      .toBuffer();
    const frame = (await detect({ img: b64(up) })).body.faces_obj['0'];
    expect(frame.region).to.have.length(1);
    const expected = obamaRegion.map((v) => v * 3) as Region;
    expect(iou(frame.region[0], expected)).to.be.greaterThan(0.6);
  });

  it('when run on the annotated faces-dev photos, then at least 17 of 18 faces are found with landmark error at most 0.15 of the eye distance', async () => {
    const images = await loadFacesDev();
    let total = 0;
    let found = 0;
    const errors: number[] = [];
    for (const img of images) {
      const frame = (await detect({ img: b64(await readFile(img.file)) })).body.faces_obj['0'];
      const regions = frame.region as Region[];
      for (const face of img.faces) {
        total++;
        const gt: Region = [face.box.left, face.box.top, face.box.width, face.box.height];
        const cx = gt[0] + gt[2] / 2;
        const cy = gt[1] + gt[3] / 2;
        const match = regions.findIndex(
          (r) => Math.hypot(r[0] + r[2] / 2 - cx, r[1] + r[3] / 2 - cy) < gt[2] / 2,
        );
        if (match < 0) continue;
        found++;
        const ref = referenceLandmarks(face);
        const got = frame.landmarks[match] as [number, number][];
        const iod = Math.hypot(ref[0]![0] - ref[1]![0], ref[0]![1] - ref[1]![1]);
        errors.push(
          got.reduce((sum, p, i) => sum + Math.hypot(p[0] - ref[i]![0], p[1] - ref[i]![1]), 0) /
            got.length /
            iod,
        );
      }
    }
    expect(total).to.equal(18);
    expect(found).to.be.at.least(17);
    const nme = errors.reduce((a, b) => a + b, 0) / errors.length;
    expect(nme).to.be.at.most(0.15);
  });

  it('when the image has no face, then the answer is a success with empty arrays', async () => {
    const blank = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#7a9' } })
      .png()
      .toBuffer();
    const { status, body } = await detect({ img: b64(blank) });
    expect(status).to.equal(200);
    expect(body.error_code).to.equal(0);
    const frame = body.faces_obj['0'];
    for (const key of ['landmarks', 'landmarks_str', 'region', 'scores', 'face_ids', 'removed'])
      expect(frame[key]).to.deep.equal([]);
  });

  it("when the same handler is called at the original API's path, then it answers the same", async () => {
    const { status, body } = await postJson(`${svc.url}/interface/detect-api/detect_faces`, {
      img: b64(obama),
    });
    expect(status).to.equal(200);
    expect(body.faces_obj['0'].region).to.deep.equal([obamaRegion]);
  });

  it('when a job id is unknown, then GET /jobs/:id answers 404 with a message', async () => {
    const { status, body } = await getJson(`${svc.url}/jobs/i-abc-00000000-0000-0000-0000-000000000000`);
    expect(status).to.equal(404);
    expect(body.error_code).to.equal(1);
    expect(body.error_msg).to.match(/job/i);
  });
});
