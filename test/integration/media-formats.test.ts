import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { image } from '../support/fixtures.js';
import { serveFiles, type FixtureServer } from '../support/http-fixture-server.js';
import { serveFilesWithRanges } from '../support/range-file-server.js';
import { postJson, startService, type TestService } from '../support/service.js';
import { binaries, ffmpeg, ffprobe, playerFrameTimes, scratchDir } from '../support/video-fixtures.js';

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

/**
 * AVIs with "dropped frame" chunks, the empty chunks ffmpeg's muxer (like VirtualDub and capture tools)
 * writes wherever timestamps leave a gap: made from a source whose video starts 0.85 s after its audio,
 * or with a span dropped from the middle. Each codec as people send it (libx264 with its default B-frames).
 */
const CODECS: Record<string, string[]> = {
  libx264: ['-c:v', 'libx264'],
  mpeg4: ['-c:v', 'mpeg4', '-q:v', '4'],
  mjpeg: ['-c:v', 'mjpeg', '-q:v', '3'],
};
const NULL_CHUNK_AVIS: VideoCase[] = Object.entries(CODECS).flatMap(([codec, args]) => [
  { name: `late-${codec}.avi`, type: 'video/x-msvideo', from: 'late.mp4', args: [...args, '-an'] },
  {
    name: `gap-${codec}.avi`,
    type: 'video/x-msvideo',
    from: 'h264.mp4',
    args: ['-vf', "select='not(between(t\\,0.8\\,1.4))'", '-vsync', 'vfr', ...args, '-an'],
  },
]);
/** One frame at the 25 fps of the photo's videos, and the rounding of `frame_time` to milliseconds. */
const ONE_FRAME_S = 1 / 25 + 0.0005;

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
  let ranged: FixtureServer;
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
    // The photo's video, 0.85 s behind a tone that starts the container's clock.
    const late = path.join(scratch.dir, 'late.mp4');
    await ffmpeg(
      ...TONE.slice(0, 4),
      ...['-itsoffset', '0.85', '-i', made.get('h264.mp4') ?? ''],
      ...['-map', '1:v', '-map', '0:a', '-c:v', 'copy', '-c:a', 'aac', '-t', '3', late],
    );
    made.set('late.mp4', late);
    for (const video of NULL_CHUNK_AVIS) {
      const file = path.join(scratch.dir, video.name);
      await ffmpeg('-i', made.get(video.from ?? '') ?? '', ...video.args, '-y', file);
      made.set(video.name, file);
      served[`/${video.name}`] = { body: await readFile(file), type: video.type };
    }
    const half = path.join(scratch.dir, 'half.avi');
    const whole = await readFile(made.get('late-libx264.avi') ?? '');
    await writeFile(half, whole.subarray(0, whole.length >> 1));
    made.set('half.avi', half);
    served['/half.avi'] = { body: await readFile(half), type: 'video/x-msvideo' };
    ranged = await serveFilesWithRanges(
      Object.fromEntries([...made].map(([name, file]) => [`/${name}`, { file, type: 'video/octet-stream' }])),
    );
    const jpeg = await readFile(image('obama.jpg'));
    for (const still of IMAGES)
      served[`/${still.name}`] = { body: await still.make(jpeg, scratch.dir), type: still.type };
    files = await serveFiles(served);
    // Every video from `ranged` is read by range; `files` serves no ranges, so its videos are downloaded.
    svc = await startService({ RANGE_READ_MIN_BYTES: '0' });
  });

  after(async () => {
    await svc.stop();
    await files.close();
    await ranged.close();
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

  const detectBoth = async (name: string) => {
    const answers = [];
    for (const origin of [files.url, ranged.url]) {
      const { status, body } = await postJson(`${svc.url}/detect`, {
        url: `${origin}/${name}`,
        num_frames: 4,
      });
      expect(status, `${origin === files.url ? 'downloaded' : 'by range'}: ${body.error_msg}`).to.equal(200);
      answers.push(body.faces_obj as Record<string, { region: unknown[]; frame_time: number }>);
    }
    return { downloaded: answers[0] ?? {}, byRange: answers[1] ?? {} };
  };
  const keysAndTimes = (facesObj: Record<string, { frame_time: number }>) =>
    Object.entries(facesObj).map(([key, frame]) => [key, frame.frame_time]);

  for (const video of VIDEOS) {
    it(`when a ${video.name} is read by range, then its keys and times are those of its download`, async () => {
      const { downloaded, byRange } = await detectBoth(video.name);
      expect(keysAndTimes(byRange)).to.deep.equal(keysAndTimes(downloaded));
    });
  }

  for (const video of NULL_CHUNK_AVIS) {
    it(`when a ${video.name} with dropped-frame chunks is sent, downloaded or by range, then its pictures are keyed and timed as ffprobe decodes them`, async () => {
      const file = made.get(video.name) ?? '';
      const counts = await ffprobe(
        ...['-count_packets', '-select_streams', 'v:0', '-show_entries', 'stream=nb_frames,nb_read_packets'],
        ...['-of', 'default=nw=1', file],
      );
      const header = Number(/nb_frames=(\d+)/.exec(counts)?.[1]);
      const packets = Number(/nb_read_packets=(\d+)/.exec(counts)?.[1]);
      expect(packets, 'the file holds empty chunks').to.be.lessThan(header);

      const { downloaded, byRange } = await detectBoth(video.name);
      expect(keysAndTimes(byRange)).to.deep.equal(keysAndTimes(downloaded));
      // Each picture at its own time on the container's clock; the last ones of a B-frame stream have none.
      const times = await playerFrameTimes(file);
      expect(times, 'the pictures ffprobe decodes are the packets').to.have.length(packets);
      const expectedKeys = [0, 1, 2, 3].map((k) => Math.round((k * times.length) / 4));
      expect(Object.keys(downloaded).map(Number)).to.deep.equal(expectedKeys);
      for (const key of expectedKeys) {
        const frame = downloaded[String(key)];
        expect(frame?.region, `frame ${key}`).to.have.length(1);
        expect(frame?.frame_time, `frame ${key}`).to.be.closeTo(times[key] ?? NaN, ONE_FRAME_S);
      }
    });
  }

  it('when an AVI is cut in half, then 422 says it is truncated, downloaded or by range', async () => {
    for (const origin of [files.url, ranged.url]) {
      const { status, body } = await postJson(`${svc.url}/detect`, { url: `${origin}/half.avi` });
      expect(status).to.equal(422);
      expect(body.error_msg).to.equal('The video is truncated or incomplete; send the whole file');
    }
  });

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
