import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import sharp from 'sharp';
import { UnsupportedMediaError } from '../../shared/errors/errors.js';
import { FfmpegRepository, type VideoProbe } from '../../worker/video/ffmpeg.repository.js';
import { MediaTimeoutError } from '../../shared/errors/errors.js';
import {
  binaries,
  CLIP,
  decodedFrameTimes,
  decodeFrameAt,
  ffmpeg,
  meanAbsDiff,
  scratchDir,
  TEST_VIDEO_LIMITS,
} from '../support/video-fixtures.js';

describe('FfmpegRepository (real ffmpeg)', function () {
  this.timeout(30_000);
  const repository = new FfmpegRepository({ binaries, limits: TEST_VIDEO_LIMITS });

  /** The listed timeline as arrays, for comparisons with a full decode. */
  const listTimeline = async (file: string, probe: VideoProbe) => {
    const timeline = await repository.readTimeline(file, probe);
    if (!timeline) expect.fail('the packets carry no timestamps');
    return { ...timeline, pts: Array.from({ length: timeline.count }, (_, i) => timeline.ptsOf(i)) };
  };
  let dir: string;
  let remove: () => Promise<void>;
  let clip: VideoProbe;

  const expectUnsupported = async (promise: Promise<unknown>, message: RegExp) => {
    const err = await promise.then(
      () => expect.fail('expected UnsupportedMediaError'),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(UnsupportedMediaError);
    expect((err as Error).message).to.match(message);
    expect((err as Error).message).not.to.include(dir);
    expect((err as Error).message).not.to.include('ffmpeg');
    return err as UnsupportedMediaError;
  };

  before(async () => {
    ({ dir, remove } = await scratchDir());
    clip = await repository.probe(CLIP);
  });
  after(async () => {
    await remove();
  });

  describe('probe', () => {
    it('when the clip is probed, then size, rate, count, duration and start match the container', () => {
      expect(clip).to.include({ hasVideo: true, width: 640, height: 360, rotation: 0, frameCount: 275 });
      expect(clip.frameCountEstimated).to.equal(false);
      expect(clip.fps).to.be.closeTo(29.97, 0.001);
      expect(clip.durationS).to.be.closeTo(9.18, 0.01);
      expect(clip.startTime).to.be.closeTo(0.852, 0.001);
    });

    it('when a file has only an audio stream, then it probes as having no video', async () => {
      const audio = path.join(dir, 'sine.m4a');
      await ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'aac', audio);
      const probe = await repository.probe(audio);
      expect(probe.hasVideo).to.equal(false);
      await expectUnsupported(
        repository.readTimeline(audio, probe),
        /no video stream; send an image or a video/,
      );
      await expectUnsupported(repository.extractFrame(audio, 0, { probe, maxSide: 640 }), /no video stream/);
    });

    it('when an mp4 is cut to its first 30 %, then it is refused as truncated', async () => {
      const bytes = await readFile(CLIP);
      const cut = path.join(dir, 'cut.mp4');
      await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.3)));
      const err = await expectUnsupported(repository.probe(cut), /truncated or incomplete/);
      expect(String((err.cause as Error).message)).to.match(/moov atom not found/);
    });

    it('when a fast-start mp4 is cut, then the header probes but the timeline refuses it as truncated', async () => {
      const faststart = path.join(dir, 'faststart.mp4');
      await ffmpeg('-i', CLIP, '-c', 'copy', '-movflags', '+faststart', faststart);
      const bytes = await readFile(faststart);
      const cut = path.join(dir, 'faststart-cut.mp4');
      await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.3)));
      const probe = await repository.probe(cut);
      expect(probe.frameCount).to.equal(275);
      await expectUnsupported(repository.readTimeline(cut, probe), /truncated or incomplete/);
      await expectUnsupported(
        repository.extractFrame(cut, 8, { probe, maxSide: 640 }),
        /could not be decoded at 8\.000 s/,
      );
    });

    it('when the file is random bytes, then it is refused as unreadable', async () => {
      const noise = path.join(dir, 'noise.mp4');
      await writeFile(noise, randomBytes(200_000));
      await expectUnsupported(repository.probe(noise), /could not be read as a video/);
    });

    it('when the name looks like another protocol, then it is still opened as a file', async () => {
      const odd = path.join(dir, 'concat:x|y.mp4');
      await writeFile(odd, await readFile(CLIP));
      expect((await repository.probe(odd)).frameCount).to.equal(275);
    });
  });

  describe('readTimeline', () => {
    it('when the clip is read, then every frame time equals the decoded pts, with keyframes', async () => {
      const timeline = await listTimeline(CLIP, clip);
      const decoded = await decodedFrameTimes(CLIP);
      expect(timeline.exact).to.equal(true);
      expect(timeline.pts).to.have.length(275);
      timeline.pts.forEach((t: number, i: number) => expect(t).to.be.closeTo(decoded[i] ?? NaN, 1e-6));
      expect(timeline.keyframes[0]).to.equal(0);
      expect(timeline.keyframes.length).to.be.within(2, 20);
    });
  });

  describe('extractFrame', () => {
    it('when a frame is extracted at full size, then it is raw RGB of the displayed size', async () => {
      const frame = await repository.extractFrame(CLIP, 2, { probe: clip, maxSide: 1280 });
      expect(frame).to.include({ width: 640, height: 360, channels: 3 });
      expect(frame.data.length).to.equal(640 * 360 * 3);
    });

    it('when maxSide is smaller than the video, then the longer side is maxSide and the aspect is kept', async () => {
      const frame = await repository.extractFrame(CLIP, 2, { probe: clip, maxSide: 320 });
      expect(frame).to.include({ width: 320, height: 180 });
      expect(frame.data.length).to.equal(320 * 180 * 3);
    });

    it('when seeking to frames of the clip, then each is exactly the frame a full decode gives', async () => {
      const { pts, keyframes } = await listTimeline(CLIP, clip);
      // The first frame, keyframes and their neighbours, the middle of a GOP, the last frame.
      const probes = [0, 1, 55, 137, 274, ...keyframes.slice(1, 3).flatMap((k) => [k - 1, k, k + 1])];
      for (const n of probes) {
        const frame = await repository.extractFrame(CLIP, pts[n] ?? NaN, { probe: clip, maxSide: 640 });
        const reference = await decodeFrameAt(CLIP, n, 640, 360);
        expect(frame.data.equals(reference), `frame ${n}`).to.equal(true);
      }
    });

    it('when the video has B-frames, then seeking still lands on the exact frame', async () => {
      const bframes = path.join(dir, 'bframes.mp4');
      await ffmpeg(
        ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '4'],
        ...['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '3', '-g', '40', '-pix_fmt', 'yuv420p', bframes],
      );
      const probe = await repository.probe(bframes);
      const { pts, keyframes } = await listTimeline(bframes, probe);
      expect(pts).to.have.length(100);
      expect(keyframes).to.include(40);
      for (const n of [0, 1, 2, 39, 40, 41, 67, 99]) {
        const frame = await repository.extractFrame(bframes, pts[n] ?? NaN, { probe, maxSide: 320 });
        const reference = await decodeFrameAt(bframes, n, 320, 240);
        expect(frame.data.equals(reference), `frame ${n}`).to.equal(true);
      }
    });

    it('when an AVI with B-frames and dropped-frame chunks is sought, from its first frame on, then each is exactly the frame a full decode gives', async () => {
      const avi = path.join(dir, 'bframes-gap.avi');
      await ffmpeg(
        ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '3'],
        ...['-vf', "select='not(between(n\\,20\\,30))'", '-vsync', 'vfr'],
        ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-an', avi],
      );
      const probe = await repository.probe(avi);
      expect(probe.reorderDelay, 'the stream has B-frames').to.be.greaterThan(0);
      const { pts } = await listTimeline(avi, probe);
      expect(pts, 'the dropped frames are no pictures').to.have.length(64);
      for (const n of [0, 1, 2, 3, 19, 20, 21, 40, 63]) {
        const frame = await repository.extractFrame(avi, pts[n] ?? NaN, { probe, maxSide: 320 });
        const reference = await decodeFrameAt(avi, n, 320, 240);
        expect(frame.data.equals(reference), `frame ${n}`).to.equal(true);
      }
    });

    it('when the time falls between two frames, then the next frame is given', async () => {
      const { pts } = await listTimeline(CLIP, clip);
      const between = ((pts[55] ?? NaN) + (pts[56] ?? NaN)) / 2;
      const frame = await repository.extractFrame(CLIP, between, { probe: clip, maxSide: 640 });
      expect(frame.data.equals(await decodeFrameAt(CLIP, 56, 640, 360))).to.equal(true);
    });

    it('when the video carries rotation metadata, then probe and frames are in displayed orientation', async () => {
      const rotated = path.join(dir, 'rotated.mp4');
      await ffmpeg('-i', CLIP, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated);
      const probe = await repository.probe(rotated);
      expect(probe.rotation === 90 || probe.rotation === 270, `rotation ${probe.rotation}`).to.equal(true);
      expect(probe).to.include({ width: 360, height: 640 });

      const upright = await repository.extractFrame(rotated, 3, { probe, maxSide: 1280 });
      expect(upright).to.include({ width: 360, height: 640 });
      const small = await repository.extractFrame(rotated, 3, { probe, maxSide: 320 });
      expect(small).to.include({ width: 180, height: 320 });

      // The same picture from the unrotated clip, turned by the probed angle, must match.
      const plain = await repository.extractFrame(CLIP, 3, { probe: clip, maxSide: 1280 });
      const turned = await sharp(plain.data, { raw: { width: 640, height: 360, channels: 3 } })
        .rotate(probe.rotation)
        .raw()
        .toBuffer();
      expect(meanAbsDiff(upright.data, turned)).to.be.lessThan(1);
    });

    it('when extraction is asked past the last frame, then it is refused as undecodable', async () => {
      await expectUnsupported(
        repository.extractFrame(CLIP, 60, { probe: clip, maxSide: 640 }),
        /could not be decoded at 59\.992 s/,
      );
    });
  });

  describe('extractFrames (one pass)', () => {
    it('when several frames are asked, then they come in order, equal to a full decode', async () => {
      const frames = [];
      for await (const frame of repository.extractFrames(CLIP, [0, 54, 55, 200, 274], {
        probe: clip,
        maxSide: 640,
      })) {
        frames.push(frame);
      }
      expect(frames).to.have.length(5);
      for (const [i, n] of [0, 54, 55, 200, 274].entries()) {
        expect(frames[i]?.data.equals(await decodeFrameAt(CLIP, n, 640, 360)), `frame ${n}`).to.equal(true);
      }
    });

    it('when the consumer stops while finished output is still unread, then the pass closes at once', async () => {
      const pass = repository.extractFrames(CLIP, [0, 10, 20, 30], { probe: clip, maxSide: 128 });
      expect((await pass.next()).value).to.include({ width: 128, height: 72 });
      // Four 28 KB frames fit in the pipe and the stream's buffer, so ffmpeg exits with three unread.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await pass.return(undefined)).done).to.equal(true);
    });

    it('when frames beyond the end are asked, then it is refused as undecodable', async () => {
      const pass = repository.extractFrames(CLIP, [0, 400], { probe: clip, maxSide: 320 });
      const err = await (async () => {
        for await (const frame of pass) expect(frame.width).to.equal(320);
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(UnsupportedMediaError);
    });
  });

  describe('hung and cancelled children', () => {
    let fifo: string;
    before(() => {
      fifo = path.join(dir, 'never.mp4');
      execFileSync('mkfifo', [fifo]);
    });
    // Opening a FIFO for writing without blocking fails with ENXIO exactly when no reader holds it.
    const readerGone = () => {
      try {
        openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
        return false;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'ENXIO';
      }
    };

    it('when ffprobe gets no data, then it is killed after the idle timeout', async () => {
      const impatient = new FfmpegRepository({ binaries, limits: TEST_VIDEO_LIMITS, idleTimeoutMs: 300 });
      const err = await impatient.probe(fifo).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(MediaTimeoutError);
      expect((err as MediaTimeoutError).httpStatus).to.equal(422);
      expect(readerGone()).to.equal(true);
    });

    it('when ffmpeg is waiting and the signal aborts, then it is killed and the reason is thrown', async () => {
      const controller = new AbortController();
      const extraction = repository.extractFrame(fifo, 0, {
        probe: clip,
        maxSide: 320,
        signal: controller.signal,
      });
      setTimeout(() => controller.abort(new Error('job cancelled')), 200);
      const err = await extraction.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as Error).message).to.equal('job cancelled');
      expect(readerGone()).to.equal(true);
    });

    it('when the signal is already aborted, then nothing is started', async () => {
      const err = await repository.probe(CLIP, AbortSignal.abort(new Error('gone'))).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as Error).message).to.equal('gone');
    });

    it('when the binary does not exist, then a plain error says so', async () => {
      const broken = new FfmpegRepository({
        limits: TEST_VIDEO_LIMITS,
        binaries: { ...binaries, ffprobe: path.join(dir, 'no-ffprobe') },
      });
      const err = await broken.probe(CLIP).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).not.to.be.instanceOf(UnsupportedMediaError);
      expect((err as Error).message).to.match(/ffprobe could not be started/);
    });
  });
});
