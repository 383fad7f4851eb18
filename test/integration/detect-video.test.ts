import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import sharp from 'sharp';
import { regionIou as iou, type Region } from '../support/regions.js';
import { image } from '../support/fixtures.js';
import { startFixtureServer, type FixtureServer } from '../support/http-fixture-server.js';
import { serveFilesWithRanges } from '../support/range-file-server.js';
import { getJson, postJson, startService, type TestService } from '../support/service.js';
import { CLIP, ffmpeg, playerFrameTimes } from '../support/video-fixtures.js';

const SECRET = 'test-webhook-secret-0123456789';

describe('POST /detect with videos', function () {
  let dir: string;
  let svc: TestService;
  let files: FixtureServer;
  let clipPts: number[];
  const hooks: { body: string; signature: string | undefined }[] = [];
  let hookServer: FixtureServer;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'facedetect-video-test-'));
    const upright = await readFile(image('obama_small.jpg'));
    // Pixels stored turned a quarter clockwise, with a display matrix that turns them back (ffprobe reports
    // rotation 90, counter-clockwise, as ffmpeg itself applies it). The tag survives only a stream copy.
    await writeFile(path.join(dir, 'stored-cw.png'), await sharp(upright).rotate(90).png().toBuffer());
    await ffmpeg(
      '-loop',
      '1',
      '-t',
      '1',
      '-r',
      '10',
      '-i',
      path.join(dir, 'stored-cw.png'),
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      path.join(dir, 'plain.mp4'),
    );
    await ffmpeg(
      '-i',
      path.join(dir, 'plain.mp4'),
      '-c',
      'copy',
      '-metadata:s:v:0',
      'rotate=90',
      path.join(dir, 'rotated.mp4'),
    );
    await ffmpeg('-stream_loop', '65', '-i', CLIP, '-c', 'copy', path.join(dir, 'long.mp4'));
    await ffmpeg(
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:duration=2',
      '-c:a',
      'aac',
      path.join(dir, 'audio-only.mp4'),
    );
    const clipBytes = await readFile(CLIP);
    await writeFile(
      path.join(dir, 'truncated.mp4'),
      clipBytes.subarray(0, Math.floor(clipBytes.length * 0.3)),
    );
    files = await serveFilesWithRanges({
      '/clip.mp4': { file: CLIP, type: 'video/mp4' },
      '/media/clip': { file: CLIP, type: 'application/octet-stream' },
      '/rotated.mp4': { file: path.join(dir, 'rotated.mp4'), type: 'video/mp4' },
      '/long.mp4': { file: path.join(dir, 'long.mp4'), type: 'video/mp4' },
      '/audio-only.mp4': { file: path.join(dir, 'audio-only.mp4'), type: 'video/mp4' },
      '/truncated.mp4': { file: path.join(dir, 'truncated.mp4'), type: 'video/mp4' },
    });
    hookServer = await startFixtureServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hooks.push({ body, signature: req.headers['x-signature'] as string | undefined });
        res.writeHead(204).end();
      });
    });
    clipPts = await playerFrameTimes(CLIP);
    svc = await startService({ WEBHOOK_SECRET: SECRET });
  });

  after(async () => {
    await svc.stop();
    await files.close();
    await hookServer.close();
    await rm(dir, { recursive: true, force: true });
  });

  const detect = (body: object) => postJson(`${svc.url}/detect`, body);

  it("when num_frames is 1, 5 or 100, then keys are round(k·total/n) and frame_time is each frame's time on a player's clock", async () => {
    expect(clipPts).to.have.length(275);
    for (const n of [1, 5, 100]) {
      const { status, body } = await detect({ url: `${files.url}/clip.mp4`, num_frames: n });
      expect(status, `n=${n}: ${body.error_msg}`).to.equal(200);
      const expected = Array.from({ length: n }, (_, k) => Math.round((k * 275) / n));
      const keys = Object.keys(body.faces_obj)
        .map(Number)
        .sort((a, b) => a - b);
      expect(keys, `n=${n}`).to.deep.equal(expected);
      for (const k of expected) {
        const frame = body.faces_obj[String(k)];
        expect(frame.frame_time, `frame ${k}`).to.be.closeTo(clipPts[k]!, 0.0015);
        expect(frame.frame_time).to.equal(Math.round(frame.frame_time * 1000) / 1000);
      }
    }
  });

  it('when the clip is sampled densely, then faces are found, ids hold within a shot, change across a cut, and removed agrees', async () => {
    const { body } = await detect({ url: `${files.url}/clip.mp4`, num_frames: 100 });
    const frames = Object.keys(body.faces_obj)
      .map(Number)
      .sort((a, b) => a - b)
      .map((k) => body.faces_obj[String(k)]);
    const withFaces = frames.filter((f) => f.region.length > 0).length;
    expect(withFaces, 'frames with faces').to.be.at.least(60);

    let longestRun = 0;
    let run = 0;
    let cuts = 0;
    const retired = new Set<number>();
    frames.forEach((frame, i) => {
      expect(frame.face_ids).to.have.length(frame.region.length);
      expect(new Set(frame.face_ids).size).to.equal(frame.face_ids.length);
      const prev: number[] = i === 0 ? [] : frames[i - 1].face_ids;
      const gone = prev.filter((id) => !frame.face_ids.includes(id)).sort((a, b) => a - b);
      expect(frame.removed, `removed at frame ${i}`).to.deep.equal(gone);
      for (const id of frame.face_ids) expect(retired.has(id), `id ${id} reused`).to.equal(false);
      for (const id of gone) retired.add(id);
      const same =
        prev.length > 0 &&
        prev.length === frame.face_ids.length &&
        prev.every((id) => frame.face_ids.includes(id));
      run = same ? run + 1 : 0;
      longestRun = Math.max(longestRun, run);
      if (prev.length > 0 && frame.face_ids.length > 0 && !prev.some((id) => frame.face_ids.includes(id)))
        cuts++;
    });
    expect(longestRun, 'samples in a row keeping the same ids').to.be.at.least(30);
    expect(cuts, 'transitions where every id changes').to.be.at.least(1);
  });

  it('when the video carries rotation metadata, then coordinates are in the displayed (upright) frame', async () => {
    const still = (await detect({ img: (await readFile(image('obama_small.jpg'))).toString('base64') })).body
      .faces_obj['0'];
    const { status, body } = await detect({ url: `${files.url}/rotated.mp4`, num_frames: 1 });
    expect(status, body.error_msg).to.equal(200);
    const frame = body.faces_obj['0'];
    expect(frame.region).to.have.length(1);
    const [x, y, w, h] = frame.region[0] as Region;
    expect(x + w).to.be.at.most(320);
    expect(y + h).to.be.at.most(240);
    expect(iou(frame.region[0], still.region[0])).to.be.greaterThan(0.6);
    const [le, re, nose] = frame.landmarks[0];
    expect(le[0]).to.be.lessThan(re[0]);
    expect(nose[1]).to.be.greaterThan(Math.max(le[1], re[1]));
  });

  it('when the video is ten minutes long and num_frames is 5, then it completes with five frames spread over it', async () => {
    expect((await stat(path.join(dir, 'long.mp4'))).size).to.be.greaterThan(0);
    const { status, body } = await detect({ url: `${files.url}/long.mp4`, num_frames: 5 });
    expect(status, body.error_msg).to.equal(200);
    const times = Object.values(body.faces_obj as Record<string, { frame_time: number }>)
      .map((f) => f.frame_time)
      .sort((a, b) => a - b);
    expect(times).to.have.length(5);
    // Looping by stream copy keeps the clip's edit list, so the first shown frame is not at 0.
    expect(times[0]).to.be.below(1.5);
    // Frame 4 of 5 is source frame round(4·total/5), about 4/5 into the ~606 s (loop joins add gaps).
    expect(times[4]!).to.be.within(440, 560);
    for (let i = 1; i < 5; i++) expect(times[i]!).to.be.greaterThan(times[i - 1]! + 60);
  });

  it('when the file has only an audio stream, then error_code 1 says there is no video stream', async () => {
    const { status, body } = await detect({ url: `${files.url}/audio-only.mp4` });
    expect(status).to.equal(422);
    expect(body).to.deep.include({ error_code: 1, faces_obj: {} });
    expect(body.error_msg).to.match(/no video stream/i);
  });

  it('when the mp4 is truncated, then error_code 1 says it is truncated or damaged', async () => {
    const { status, body } = await detect({ url: `${files.url}/truncated.mp4` });
    expect(status).to.equal(422);
    expect(body.error_code).to.equal(1);
    expect(body.error_msg).to.match(/truncated|damaged|incomplete/i);
    expect(body.error_msg).to.not.include(dir);
  });

  it('when the URL has no extension but serves an mp4, then the bytes decide and it is treated as a video', async () => {
    const a = await detect({ url: `${files.url}/media/clip`, num_frames: 5 });
    const b = await detect({ url: `${files.url}/clip.mp4`, num_frames: 5 });
    expect(a.status, a.body.error_msg).to.equal(200);
    expect(a.body.faces_obj).to.deep.equal(b.body.faces_obj);
  });

  it('when a video is sent as img, then the answer says to send it by url', async () => {
    const { status, body } = await detect({ img: (await readFile(CLIP)).toString('base64') });
    expect(status).to.equal(400);
    expect(body.error_msg).to.match(/url/);
  });

  it('when crops are asked for, then every sampled frame gets its own crops', async () => {
    const { body } = await detect({ url: `${files.url}/clip.mp4`, num_frames: 5, return_face_url: true });
    for (const [key, frame] of Object.entries(body.faces_obj as Record<string, any>)) {
      expect(frame.face_urls).to.have.length(frame.region.length);
      for (const [i, url] of (frame.face_urls as string[]).entries()) {
        expect(url).to.include(`/${body.job_id}/${key}_${i}.jpg`);
        const jpeg = Buffer.from(await (await fetch(url)).arrayBuffer());
        const meta = await sharp(jpeg).metadata();
        expect([meta.width, meta.height]).to.deep.equal(frame.crop_region[i].slice(2));
      }
    }
    expect(Object.values(body.faces_obj as Record<string, any>).some((f) => f.face_urls.length > 0)).to.equal(
      true,
    );
  });

  it('when sent async with a callback, then 202, progress rises, the result equals the synchronous one, and a signed callback arrives', async () => {
    const sync = await detect({ url: `${files.url}/clip.mp4`, num_frames: 20 });
    const { status, body } = await detect({
      url: `${files.url}/clip.mp4`,
      num_frames: 20,
      async: true,
      callback_url: `${hookServer.url}/hook`,
    });
    expect(status).to.equal(202);
    expect(body.job_id).to.match(/^v-/);
    const seen: number[] = [];
    let final: any;
    for (let i = 0; i < 400 && !final; i++) {
      const poll = (await getJson(body.status_url)).body;
      if (poll.progress) {
        expect(poll.progress.frames_total).to.equal(20);
        seen.push(poll.progress.frames_done);
      }
      if (poll.status === 'completed' || poll.status === 'failed') final = poll;
      else await new Promise((r) => setTimeout(r, 20));
    }
    expect(final?.status).to.equal('completed');
    expect(final.progress).to.deep.equal({ frames_done: 20, frames_total: 20 });
    for (let i = 1; i < seen.length; i++) expect(seen[i]).to.be.at.least(seen[i - 1]!);
    expect(new Set(seen).size, 'distinct progress values seen').to.be.at.least(2);
    expect(final.result).to.deep.equal({ ...sync.body, job_id: body.job_id });

    for (let i = 0; i < 100 && hooks.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(hooks).to.have.length(1);
    const hook = hooks[0]!;
    const expected = `sha256=${createHmac('sha256', SECRET).update(hook.body).digest('hex')}`;
    expect(hook.signature).to.equal(expected);
    expect(JSON.parse(hook.body)).to.deep.equal(final.result);
  });

  it('when a long video job is running, then a synchronous image request is answered before it ends', async () => {
    const video = (await detect({ url: `${files.url}/long.mp4`, num_frames: 100, async: true })).body;
    for (let i = 0; i < 200; i++) {
      if ((await getJson(video.status_url)).body.status === 'active') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const img = await detect({ img: (await readFile(image('obama.jpg'))).toString('base64') });
    expect(img.status).to.equal(200);
    expect(img.body.faces_obj['0'].region).to.have.length(1);
    const after = (await getJson(video.status_url)).body;
    expect(after.status, 'the video was still running when the image came back').to.equal('active');
    expect(after.progress?.frames_done ?? 0).to.be.lessThan(100);
  });
});
