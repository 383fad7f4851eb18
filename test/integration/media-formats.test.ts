import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { image } from '../support/fixtures.js';
import { serveFiles, type FixtureServer } from '../support/http-fixture-server.js';
import { postJson, startService, type TestService } from '../support/service.js';
import { binaries, ffmpeg, playerFrameTimes, scratchDir } from '../support/video-fixtures.js';

/** Two seconds of a face, 25 fps, at 320×240 (h263 needs 352×288): every sampled frame has one face. */
const FACE = ['-loop', '1', '-framerate', '25', '-i', image('obama.jpg'), '-t', '2'];
const SIZE = (size: string) => ['-vf', `scale=${size},format=yuv420p`];
const TONE = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-shortest'];

interface VideoCase {
  name: string;
  args: string[];
  type: string;
  /** Made from another case's file rather than from the photo. */
  from?: string;
}

/** The containers and codecs people send, each made by the ffmpeg under test. */
const VIDEOS: VideoCase[] = [
  { name: 'h264.mp4', type: 'video/mp4', args: [...FACE, ...SIZE('320:240'), '-c:v', 'libx264'] },
  {
    name: 'hevc.mp4',
    type: 'video/mp4',
    args: [...FACE, ...SIZE('320:240'), '-c:v', 'libx265', '-tag:v', 'hvc1'],
  },
  { name: 'h264.mov', type: 'video/quicktime', args: [...FACE, ...SIZE('320:240'), '-c:v', 'libx264'] },
  {
    name: 'mpeg4-mp3.avi',
    type: 'video/x-msvideo',
    args: [...FACE, ...TONE, ...SIZE('320:240'), '-c:v', 'mpeg4', '-q:v', '4', '-c:a', 'libmp3lame'],
  },
  { name: 'h264.avi', type: 'video/x-msvideo', args: [...FACE, ...SIZE('320:240'), '-c:v', 'libx264'] },
  {
    name: 'mjpeg.avi',
    type: 'video/x-msvideo',
    args: [...FACE, ...SIZE('320:240'), '-c:v', 'mjpeg', '-q:v', '3'],
  },
  {
    name: 'vp8.webm',
    type: 'video/webm',
    args: [...FACE, ...SIZE('320:240'), '-c:v', 'libvpx', '-b:v', '400k', '-g', '10'],
  },
  {
    name: 'vp9.webm',
    type: 'video/webm',
    args: [
      ...FACE,
      ...SIZE('320:240'),
      '-c:v',
      'libvpx-vp9',
      '-b:v',
      '400k',
      '-deadline',
      'realtime',
      '-cpu-used',
      '8',
    ],
  },
  // Cut without re-encoding: the stream starts at the keyframe before 0.8 s, above 0 on the container's clock.
  { name: 'cut.webm', type: 'video/webm', from: 'vp8.webm', args: ['-ss', '0.8', '-c', 'copy'] },
  { name: 'h264.mkv', type: 'video/x-matroska', args: [...FACE, ...SIZE('320:240'), '-c:v', 'libx264'] },
  // MPEG-TS and MPEG-PS written by ffmpeg start at 1.4 s and 0.5 s.
  {
    name: 'h264.ts',
    type: 'video/mp2t',
    args: [...FACE, ...SIZE('320:240'), '-c:v', 'libx264', '-f', 'mpegts'],
  },
  { name: 'sorenson.flv', type: 'video/x-flv', args: [...FACE, ...SIZE('320:240'), '-c:v', 'flv'] },
  { name: 'h263.3gp', type: 'video/3gpp', args: [...FACE, ...SIZE('352:288'), '-c:v', 'h263'] },
  {
    name: 'mpeg2.mpg',
    type: 'video/mpeg',
    args: [...FACE, ...SIZE('320:240'), '-c:v', 'mpeg2video', '-f', 'vob'],
  },
  { name: 'h264.m4v', type: 'video/x-m4v', args: [...FACE, ...SIZE('320:240'), '-c:v', 'libx264'] },
  {
    // Variable frame rate: 15 frames 1/25 s apart, then every third frame only.
    name: 'vfr.mp4',
    type: 'video/mp4',
    args: [
      ...FACE,
      '-vf',
      "select='lt(n\\,15)+not(mod(n\\,3))',scale=320:240,format=yuv420p",
      '-vsync',
      'vfr',
      '-c:v',
      'libx264',
    ],
  },
];

/** Still images in every format the original API accepts; sharp writes them, ffmpeg the BMP. */
const IMAGES: { name: string; type: string; make: (jpeg: Buffer, dir: string) => Promise<Buffer> }[] = [
  { name: 'photo.jpg', type: 'image/jpeg', make: (jpeg) => Promise.resolve(jpeg) },
  { name: 'photo.png', type: 'image/png', make: (jpeg) => sharp(jpeg).png().toBuffer() },
  { name: 'photo.webp', type: 'image/webp', make: (jpeg) => sharp(jpeg).webp().toBuffer() },
  { name: 'photo.gif', type: 'image/gif', make: (jpeg) => sharp(jpeg).gif().toBuffer() },
  { name: 'photo.tiff', type: 'image/tiff', make: (jpeg) => sharp(jpeg).tiff().toBuffer() },
  { name: 'photo.avif', type: 'image/avif', make: (jpeg) => sharp(jpeg).avif().toBuffer() },
  {
    name: 'photo.bmp',
    type: 'image/bmp',
    make: async (_jpeg, dir) => {
      const file = path.join(dir, 'photo.bmp');
      await ffmpeg('-i', image('obama.jpg'), '-pix_fmt', 'bgr24', file);
      return readFile(file);
    },
  },
];

describe(`media formats, read with ${path.basename(path.dirname(binaries.ffmpeg))}/${path.basename(binaries.ffmpeg)}`, function () {
  this.timeout(120_000);
  let svc: TestService;
  let files: FixtureServer;
  let remove: () => Promise<void>;
  const made = new Map<string, string>();

  before(async () => {
    const scratch = await scratchDir();
    remove = scratch.remove;
    const served: Record<string, { body: Buffer; type: string }> = {};
    for (const video of VIDEOS) {
      const file = path.join(scratch.dir, video.name);
      const input = video.from ? ['-i', made.get(video.from) ?? ''] : [];
      await ffmpeg(...input, ...video.args, '-y', file);
      made.set(video.name, file);
      served[`/${video.name}`] = { body: await readFile(file), type: video.type };
    }
    const jpeg = await readFile(image('obama.jpg'));
    for (const still of IMAGES)
      served[`/${still.name}`] = { body: await still.make(jpeg, scratch.dir), type: still.type };
    files = await serveFiles(served);
    svc = await startService();
  });

  after(async () => {
    await svc.stop();
    await files.close();
    await remove();
  });

  for (const video of VIDEOS) {
    it(`when a ${video.name} is sent, then each sampled frame has the face, its number as key and its player time`, async () => {
      const { status, body } = await postJson(`${svc.url}/detect`, {
        url: `${files.url}/${video.name}`,
        num_frames: 4,
      });
      expect(status, body.error_msg).to.equal(200);
      const times = await playerFrameTimes(made.get(video.name) ?? '');
      const expectedKeys = [0, 1, 2, 3].map((k) => Math.round((k * times.length) / 4));
      expect(
        Object.keys(body.faces_obj)
          .map(Number)
          .sort((a, b) => a - b),
      ).to.deep.equal(expectedKeys);
      for (const key of expectedKeys) {
        const frame = body.faces_obj[String(key)];
        expect(frame.region, `frame ${key}`).to.have.length(1);
        expect(frame.frame_time, `frame ${key}`).to.be.closeTo(times[key] ?? NaN, 0.0015);
      }
      // Not 1.4 s for MPEG-TS, nor 0.8 s for the cut WebM; up to two frames for B-frames in AVI.
      expect(body.faces_obj['0'].frame_time, 'the first picture starts the player').to.be.lessThan(0.1);
    });
  }

  for (const still of IMAGES) {
    it(`when a ${still.name} is sent, then its one face is found`, async () => {
      const { status, body } = await postJson(`${svc.url}/detect`, { url: `${files.url}/${still.name}` });
      expect(status, body.error_msg).to.equal(200);
      expect(body.faces_obj['0'].region).to.have.length(1);
    });
  }

  it('when a HEIC photo is sent, then 422 names HEIC and says what to send instead', async () => {
    const heic = Buffer.concat([
      Buffer.from([0, 0, 0, 0x18]),
      Buffer.from('ftypheic\0\0\0\0mif1heic'),
      Buffer.alloc(64),
    ]);
    const { status, body } = await postJson(`${svc.url}/detect`, { img: heic.toString('base64') });
    expect(status).to.equal(422);
    expect(body.error_msg).to.match(/^HEIC images .*cannot be decoded here.*send a JPEG, PNG or AVIF/);
  });
});
