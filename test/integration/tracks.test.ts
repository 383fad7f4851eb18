import sharp from 'sharp';
import { expect } from 'chai';
import type { DetectSuccess, FrameFaces, Track } from '../../shared/contract/api-contract.js';
import { centreLargestValue } from '../../worker/detection/face-select.js';
import { faceUsability } from '../../worker/detection/face-usability.js';
import { startFixtureServer, type FixtureServer } from '../support/http-fixture-server.js';
import { serveFilesWithRanges } from '../support/range-file-server.js';
import { getJson, postJson, startService, type TestService } from '../support/service.js';
import { CLIP } from '../support/video-fixtures.js';

/** The usability of face `i` of a frame, from the fields the answer gives. */
const usabilityOf = (frame: FrameFaces, i: number) =>
  faceUsability({ region: frame.region[i]!, pose: frame.pose[i]!, quality: frame.quality[i]! });

const CLIP_SIZE = { width: 640, height: 360 };

describe('tracks and face_select on the fixture clip', function () {
  let svc: TestService;
  let files: FixtureServer;
  let hookServer: FixtureServer;
  const hooks: string[] = [];
  /** Every face of 20 sampled frames, with crops. */
  let all: DetectSuccess;

  const detect = (body: object) => postJson(`${svc.url}/detect`, body);
  const clip = () => `${files.url}/clip.mp4`;

  before(async () => {
    files = await serveFilesWithRanges({ '/clip.mp4': { file: CLIP, type: 'video/mp4' } });
    hookServer = await startFixtureServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hooks.push(body);
        res.writeHead(204).end();
      });
    });
    svc = await startService();
    const answer = await detect({ url: clip(), num_frames: 20, return_face_url: true });
    expect(answer.status).to.equal(200);
    all = answer.body as DetectSuccess;
  });

  after(async () => {
    await svc.stop();
    await files.close();
    await hookServer.close();
  });

  it('when a video is detected, then each face id has one track whose frames and times are where that id is', () => {
    const tracks = all.tracks!;
    const ids = new Set(Object.values(all.faces_obj).flatMap((f) => f.face_ids));
    expect(tracks.map((t) => t.face_id)).to.deep.equal([...ids].sort((a, b) => a - b));
    for (const track of tracks) {
      const keys = Object.keys(all.faces_obj)
        .filter((k) => all.faces_obj[k]!.face_ids.includes(track.face_id))
        .sort((a, b) => Number(a) - Number(b));
      expect(track.frames).to.deep.equal(keys);
      expect(track.first_time).to.equal(all.faces_obj[keys[0]!]!.frame_time);
      expect(track.last_time).to.equal(all.faces_obj[keys.at(-1)!]!.frame_time);
    }
  });

  it("when a track is built, then best is its most usable face, with that frame's fields and absolute crop link", () => {
    for (const track of all.tracks!) {
      const values = track.frames.map((k) => {
        const frame = all.faces_obj[k]!;
        return usabilityOf(frame, frame.face_ids.indexOf(track.face_id));
      });
      expect(track.best.usability).to.equal(Math.max(...values));
      const frame = all.faces_obj[track.best.frame]!;
      const i = frame.face_ids.indexOf(track.face_id);
      expect(track.best).to.deep.equal({
        frame: track.best.frame,
        region: frame.region[i],
        landmarks: frame.landmarks[i],
        landmarks_str: frame.landmarks_str[i],
        score: frame.scores[i],
        usability: usabilityOf(frame, i),
        pose: frame.pose[i],
        quality: frame.quality[i],
        face_url: frame.face_urls![i],
      });
      expect(track.best.face_url).to.match(/^http:\/\//);
    }
  });

  it('when single_face is set, then faces_obj keeps one face but tracks still follow every face', async () => {
    const full = (await detect({ url: clip(), num_frames: 20 })).body as DetectSuccess;
    const single = (await detect({ url: clip(), num_frames: 20, single_face: true })).body as DetectSuccess;
    expect(Object.values(single.faces_obj).every((f) => f.region.length <= 1)).to.equal(true);
    expect(full.tracks!.length).to.be.greaterThan(1);
    expect(single.tracks).to.deep.equal(full.tracks);
    expect(full.tracks!.every((t) => t.best.face_url === null)).to.equal(true);
  });

  it("when single_face drops a track's best face and return_face_url is set, then that best still has a crop of its own", async () => {
    const single = (await detect({ url: clip(), num_frames: 20, single_face: true, return_face_url: true }))
      .body as DetectSuccess;
    const inAnswer = new Set(Object.values(single.faces_obj).flatMap((f) => f.face_urls ?? []));
    const dropped = single.tracks!.filter((t) => !inAnswer.has(t.best.face_url!));
    expect(dropped.length, 'some track is best where single_face kept another face').to.be.greaterThan(0);
    for (const track of single.tracks!) {
      expect(track.best.face_url).to.match(new RegExp(`^${svc.url}/crops/`));
      const res = await fetch(track.best.face_url!);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('image/jpeg');
      const { width, height } = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      const [, , w, h] = track.best.region;
      // The crop is the best face's box grown by expand_ratio on every side (clipped at the frame's edge).
      expect(width)
        .to.be.at.least(Math.round(w))
        .and.at.most(Math.round(w * 1.6) + 2);
      expect(height)
        .to.be.at.least(Math.round(h))
        .and.at.most(Math.round(h * 1.6) + 2);
    }
  });

  it('when each face_select rule is asked, then every frame keeps the face that rule ranks first', async () => {
    const rules = {
      largest: (f: FrameFaces, i: number) => f.region[i]![2] * f.region[i]![3],
      center_largest: (f: FrameFaces, i: number) =>
        centreLargestValue(f.region[i]!, CLIP_SIZE.width, CLIP_SIZE.height),
      best: usabilityOf,
    };
    let differing = 0;
    for (const [rule, value] of Object.entries(rules)) {
      const { status, body } = await detect({ url: clip(), num_frames: 20, face_select: rule });
      expect(status, rule).to.equal(200);
      for (const [key, frame] of Object.entries(all.faces_obj)) {
        const kept = (body as DetectSuccess).faces_obj[key]!;
        if (frame.region.length === 0) {
          expect(kept.region, `${rule} ${key}`).to.deep.equal([]);
          continue;
        }
        const values = frame.region.map((_, i) => value(frame, i));
        const chosen = values.indexOf(Math.max(...values));
        if (chosen !== 0) differing++;
        expect(kept.region, `${rule} ${key}`).to.deep.equal([frame.region[chosen]]);
      }
    }
    // The clip's crowd frames make center_largest and best differ from largest somewhere.
    expect(differing).to.be.greaterThan(0);
  });

  it('when face_select comes with max_faces above 1 or names no rule, then the request is refused with 400', async () => {
    const both = await detect({ url: clip(), face_select: 'best', max_faces: 3 });
    expect(both.status).to.equal(400);
    expect(both.body.error_msg).to.match(
      /'face_select' keeps one face per frame and cannot go with 'max_faces' 3/,
    );
    const unknown = await detect({ url: clip(), face_select: 'sharpest' });
    expect(unknown.status).to.equal(400);
    expect(unknown.body.error_msg).to.equal(
      "'face_select' must be one of 'largest', 'center_largest', 'best'",
    );
    expect((await detect({ url: clip(), num_frames: 1, face_select: 'best', max_faces: 1 })).status).to.equal(
      200,
    );
  });

  it('when a video job runs in the background, then its poll and its callback carry the same tracks with absolute links', async () => {
    const { body } = await detect({
      url: clip(),
      num_frames: 20,
      return_face_url: true,
      async: true,
      callback_url: `${hookServer.url}/hook`,
    });
    let final: { status: string; result: DetectSuccess | null } | undefined;
    for (let i = 0; i < 600 && !final; i++) {
      const poll = (await getJson(body.status_url)).body;
      if (poll.status === 'completed' || poll.status === 'failed') final = poll;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(final?.status).to.equal('completed');
    const polled = final!.result!.tracks!;
    const sansUrls = (tracks: Track[]) => tracks.map((t) => ({ ...t, best: { ...t.best, face_url: null } }));
    expect(sansUrls(polled)).to.deep.equal(sansUrls(all.tracks!));
    expect(polled.every((t) => t.best.face_url?.startsWith(`${svc.url}/crops/`))).to.equal(true);
    for (let i = 0; i < 100 && hooks.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const hook = JSON.parse(hooks[0]!) as DetectSuccess;
    expect(hook.tracks).to.deep.equal(polled);
  });
});
