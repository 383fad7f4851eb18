import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import sharp from 'sharp';
import { loadFacesDev, referenceLandmarks, type AnnotatedImage } from '../support/faces-dev.js';
import { image } from '../support/fixtures.js';
import { serveFiles, type FixtureServer } from '../support/http-fixture-server.js';
import type { Region } from '../support/regions.js';
import { loadRotationDev, scoreRegions, unturnRegion, type LabelledPhoto } from '../support/rotation-dev.js';
import { postJson, startService, type TestService } from '../support/service.js';
import { CLIP, ffmpeg } from '../support/video-fixtures.js';

type Turn = 0 | 90 | 180 | 270;
type Point = [number, number];
const b64 = (buf: Buffer) => buf.toString('base64');

/** Where a point of a `width`×`height` picture lands when sharp turns the picture `turn`° clockwise. */
function turnPoint([x, y]: Point, turn: Turn, width: number, height: number): Point {
  if (turn === 90) return [height - y, x];
  if (turn === 180) return [width - x, height - y];
  if (turn === 270) return [y, width - x];
  return [x, y];
}

interface Score {
  total: number;
  found: number;
  /** Mean landmark error over the eye distance, the six points in the subject's order. */
  nme: number;
}

describe('Faces at any orientation, with pose and quality', function () {
  this.timeout(120_000);
  let svc: TestService;
  let facesDev: AnnotatedImage[];
  const detect = async (body: object) => {
    const { status, body: answer } = await postJson(`${svc.url}/detect`, body);
    expect(status, JSON.stringify(answer)).to.equal(200);
    return answer.faces_obj['0'];
  };

  before(async () => {
    svc = await startService();
    facesDev = await loadFacesDev();
  });
  after(async () => svc.stop());

  async function scoreFacesDev(turn: Turn, autoRotate = true): Promise<Score> {
    let total = 0;
    let found = 0;
    const errors: number[] = [];
    for (const img of facesDev) {
      const bytes = await readFile(img.file);
      const { width, height } = await sharp(bytes).metadata();
      const turned = await sharp(bytes).rotate(turn).jpeg({ quality: 95 }).toBuffer();
      const frame = await detect({ img: b64(turned), auto_rotate: autoRotate });
      const regions = frame.region as Region[];
      // Each answered face counts for one annotated face at most.
      const used = new Set<number>();
      for (const face of img.faces) {
        total++;
        const ref = referenceLandmarks(face).map((p) => turnPoint(p, turn, width, height));
        const [cx, cy] = turnPoint(
          [face.box.left + face.box.width / 2, face.box.top + face.box.height / 2],
          turn,
          width,
          height,
        );
        const match = regions.findIndex(
          (r, i) =>
            !used.has(i) && Math.hypot(r[0] + r[2] / 2 - cx, r[1] + r[3] / 2 - cy) < face.box.width / 2,
        );
        if (match < 0) continue;
        used.add(match);
        found++;
        const got = frame.landmarks[match] as Point[];
        const iod = Math.hypot(ref[0]![0] - ref[1]![0], ref[0]![1] - ref[1]![1]);
        errors.push(
          got.reduce((s, p, i) => s + Math.hypot(p[0] - ref[i]![0], p[1] - ref[i]![1]), 0) / 6 / iod,
        );
      }
    }
    return { total, found, nme: errors.reduce((a, b) => a + b, 0) / Math.max(1, errors.length) };
  }

  it('when faces-dev is turned by 90°, 180° and 270°, then recall is at least 95 % of upright and landmarks follow the subject within 0.15 of the eye distance', async () => {
    const upright = await scoreFacesDev(0);
    expect(upright.total).to.equal(18);
    expect(upright.found).to.be.at.least(17);
    expect(upright.nme).to.be.at.most(0.15);
    for (const turn of [90, 180, 270] as const) {
      const turned = await scoreFacesDev(turn);
      expect(turned.found, `found at ${turn}°`).to.be.at.least(Math.ceil(0.95 * upright.found));
      expect(turned.nme, `landmark error at ${turn}°`).to.be.at.most(0.15);
    }
  });

  it('when every photo of the rotation development set is turned a quarter at a time without EXIF, then each turn finds at least 95 % of the faces found upright, with at most one false face more per ten photos', async function () {
    this.timeout(900_000);
    // Rejects, failing the test, when the set is missing.
    const photos = await loadRotationDev();
    expect(photos.length).to.be.at.least(20);
    const score = async (turn: Turn, photo: LabelledPhoto) => {
      const bytes = await readFile(photo.file);
      const picture = turn === 0 ? bytes : await sharp(bytes).rotate(turn).jpeg({ quality: 95 }).toBuffer();
      const frame = await detect({ img: b64(picture) });
      const found = (frame.region as Region[]).map((r) => unturnRegion(r, turn, photo.width, photo.height));
      return scoreRegions(found, photo);
    };
    const totals = new Map<Turn, { found: number; falseFaces: number }>();
    for (const turn of [0, 90, 180, 270] as const) {
      const total = { found: 0, falseFaces: 0 };
      for (const photo of photos) {
        const { found, falseFaces } = await score(turn, photo);
        total.found += found;
        total.falseFaces += falseFaces;
      }
      totals.set(turn, total);
    }
    const upright = totals.get(0)!;
    expect(upright.found).to.be.greaterThan(0);
    for (const turn of [90, 180, 270] as const) {
      const turned = totals.get(turn)!;
      const seen = `at ${turn}°: ${JSON.stringify(turned)}, upright ${JSON.stringify(upright)}`;
      expect(turned.found, seen).to.be.at.least(Math.ceil(0.95 * upright.found));
      expect(turned.falseFaces, seen).to.be.at.most(upright.falseFaces + Math.floor(photos.length / 10));
    }
  });

  it('when auto_rotate is false, then a turned crowd is searched upright only, as before', async () => {
    const off = await scoreFacesDev(90, false);
    const on = await scoreFacesDev(90, true);
    expect(off.found).to.be.lessThan(on.found / 2);
  });

  it('when portraits are turned a quarter at a time, then each face is found, the turn is reported, and the eyes keep their order', async () => {
    for (const name of [
      'obama.jpg',
      'biden.jpg',
      'lin-manuel-miranda.png',
      'two_people.jpg',
      'obama_small.jpg',
    ]) {
      const bytes = await readFile(image(name));
      const upright = await detect({ img: b64(bytes) });
      for (const turn of [90, 180, 270] as const) {
        const frame = await detect({ img: b64(await sharp(bytes).rotate(turn).png().toBuffer()) });
        expect(frame.region, `${name} at ${turn}°`).to.have.length(upright.region.length);
        expect(frame.rotation, `${name} at ${turn}°`).to.equal((360 - turn) % 360);
        for (const [i, pose] of (frame.pose as { roll: number }[]).entries()) {
          // The face is turned with the picture: its roll is the turn, give or take the face's own tilt.
          const off = ((((pose.roll - turn) % 360) + 540) % 360) - 180;
          expect(Math.abs(off), `${name} at ${turn}°, face ${i}: roll ${pose.roll}`).to.be.at.most(20);
        }
      }
    }
  });

  it('when a photo without people is sent at every turn, then auto_rotate finds at most one false face more than upright', async () => {
    const scene = await sharp(await readFile(image('obama.jpg')))
      .extract({ left: 0, top: 520, width: 910, height: 617 })
      .resize(1920, 1080, { fit: 'fill' })
      .jpeg()
      .toBuffer();
    for (const turn of [0, 90, 180, 270] as const) {
      const picture = await sharp(scene).rotate(turn).jpeg().toBuffer();
      const off = await detect({ img: b64(picture), auto_rotate: false });
      const on = await detect({ img: b64(picture) });
      expect(on.region.length, `at ${turn}°`).to.be.at.most(off.region.length + 1);
    }
  });

  it('when heads are tilted by up to 30° within the picture, then they are still found and roll follows the tilt', async () => {
    const bytes = await readFile(image('two_people.jpg'));
    const upright = await detect({ img: b64(bytes) });
    const meanRoll = (frame: { pose: { roll: number }[] }) =>
      frame.pose.reduce((s, p) => s + p.roll, 0) / frame.pose.length;
    for (const tilt of [-30, -20, 20, 30]) {
      const frame = await detect({
        img: b64(await sharp(bytes).rotate(tilt, { background: '#808080' }).jpeg().toBuffer()),
      });
      expect(frame.region, `tilted ${tilt}°`).to.have.length(upright.region.length);
      expect(meanRoll(frame) - meanRoll(upright), `roll tilted ${tilt}°`).to.be.closeTo(tilt, 10);
    }
  });

  it('when a photo is turned 20° clockwise, then about 20° is added to roll', async () => {
    for (const name of ['obama.jpg', 'biden.jpg']) {
      const bytes = await readFile(image(name));
      const before = (await detect({ img: b64(bytes) })).pose[0].roll as number;
      const after = (
        await detect({ img: b64(await sharp(bytes).rotate(20, { background: '#808080' }).jpeg().toBuffer()) })
      ).pose[0].roll as number;
      expect(after - before, name).to.be.within(14, 26);
    }
  });

  it('when a photo is mirrored, then yaw and roll change sign', async () => {
    for (const name of ['biden.jpg', 'lin-manuel-miranda.png']) {
      const bytes = await readFile(image(name));
      const a = (await detect({ img: b64(bytes) })).pose[0];
      const b = (await detect({ img: b64(await sharp(bytes).flop().png().toBuffer()) })).pose[0];
      expect(Math.abs(a.yaw), `${name} yaw`).to.be.greaterThan(8);
      expect(Math.sign(b.yaw), `${name} yaw ${a.yaw} then ${b.yaw}`).to.equal(-Math.sign(a.yaw));
      expect(b.yaw).to.be.closeTo(-a.yaw, 10);
      expect(b.roll).to.be.closeTo(-a.roll, 4);
      expect(b.pitch).to.be.closeTo(a.pitch, 8);
    }
  });

  it('when a copy is blurred or darkened, then sharpness or brightness drops', async () => {
    const bytes = await readFile(image('obama.jpg'));
    const q = (await detect({ img: b64(bytes) })).quality[0];
    const blurred = (await detect({ img: b64(await sharp(bytes).blur(6).jpeg().toBuffer()) })).quality[0];
    const dark = (await detect({ img: b64(await sharp(bytes).linear(0.4, 0).jpeg().toBuffer()) })).quality[0];
    expect(q.sharpness).to.be.greaterThan(0.8);
    expect(blurred.sharpness).to.be.lessThan(q.sharpness - 0.2);
    expect(dark.brightness).to.be.lessThan(q.brightness * 0.6);
    expect(Math.abs(blurred.brightness - q.brightness)).to.be.lessThan(0.05);
  });

  it('when min_face_size and max_faces are set, then smaller faces are dropped and at most that many largest kept', async () => {
    const crowd = facesDev.reduce((a, b) => (b.faces.length > a.faces.length ? b : a));
    const bytes = b64(await readFile(crowd.file));
    const all = await detect({ img: bytes });
    expect(all.region.length).to.be.at.least(6);
    const big = await detect({ img: bytes, min_face_size: 40 });
    const sides = (all.region as Region[]).map((r) => Math.min(r[2], r[3]));
    expect(big.region.length).to.equal(sides.filter((s) => s >= 40).length);
    expect(big.region.length).to.be.greaterThan(0).and.lessThan(all.region.length);
    const two = await detect({ img: bytes, max_faces: 2 });
    expect(two.region).to.deep.equal(all.region.slice(0, 2));
    expect(two.pose).to.have.length(2);
    const { status } = await postJson(`${svc.url}/detect`, { img: bytes, max_faces: 0 });
    expect(status).to.equal(400);
  });

  describe('a video whose pictures are turned without rotation metadata', () => {
    let dir: string;
    let files: FixtureServer;

    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'facedetect-transposed-'));
      // Both encoded alike, so that the same samples are compared.
      const encode = (filter: string, name: string) =>
        ffmpeg(
          '-i',
          CLIP,
          '-vf',
          filter,
          '-c:v',
          'libx264',
          '-pix_fmt',
          'yuv420p',
          '-an',
          path.join(dir, name),
        );
      await encode('null', 'upright.mp4');
      await encode('transpose=1', 'transposed.mp4');
      files = await serveFiles({
        '/upright.mp4': { body: await readFile(path.join(dir, 'upright.mp4')), type: 'video/mp4' },
        '/transposed.mp4': { body: await readFile(path.join(dir, 'transposed.mp4')), type: 'video/mp4' },
      });
    });
    after(async () => {
      await files.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('when a transposed video is sent, then its faces are found as in the upright one, turned back once for the video', async () => {
      const run = async (name: string) =>
        (await postJson(`${svc.url}/detect`, { url: `${files.url}/${name}`, num_frames: 6 })).body.faces_obj;
      const upright = await run('upright.mp4');
      const turned = await run('transposed.mp4');
      type Frame = { region: unknown[]; rotation: number };
      const frames = (obj: Record<string, Frame>) => Object.values(obj);
      expect(Object.keys(turned)).to.deep.equal(Object.keys(upright));
      const count = (list: Frame[]) => list.reduce((n, f) => n + f.region.length, 0);
      expect(count(frames(upright))).to.be.greaterThan(0);
      expect(count(frames(turned))).to.be.at.least(Math.ceil(0.95 * count(frames(upright))));
      const turns = new Set(
        frames(turned)
          .filter((f) => f.region.length > 0)
          .map((f) => f.rotation),
      );
      expect([...turns]).to.deep.equal([270]);
    });
  });
});
