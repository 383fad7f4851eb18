import { expect } from 'chai';
import path from 'node:path';
import { UnsupportedMediaError } from '../../shared/errors/errors.js';
import { FfmpegRepository } from '../../worker/video/ffmpeg.repository.js';
import { FramePipeline, type VideoFrame } from '../../worker/video/frame-pipeline.js';
import {
  binaries,
  CLIP,
  containerStart,
  playerFrameTimes,
  decodeFrameAt,
  ffmpeg,
  ffprobe,
  scratchDir,
} from '../support/video-fixtures.js';
import { TEST_VIDEO_LIMITS } from '../support/video-fixtures.js';

async function collect(frames: AsyncIterable<VideoFrame>): Promise<VideoFrame[]> {
  const all: VideoFrame[] = [];
  for await (const frame of frames) all.push(frame);
  return all;
}

describe('FramePipeline (real ffmpeg)', function () {
  this.timeout(30_000);
  const repository = new FfmpegRepository({ binaries, limits: TEST_VIDEO_LIMITS });
  const pipeline = new FramePipeline(repository, { maxFrames: TEST_VIDEO_LIMITS.maxFrames, maxSide: 640 });
  let dir: string;
  let remove: () => Promise<void>;
  let clipTimes: number[];

  before(async () => {
    ({ dir, remove } = await scratchDir());
    clipTimes = await playerFrameTimes(CLIP);
  });
  after(async () => {
    await remove();
  });

  it('when 5 frames of the clip are sampled, then keys, times and pictures are the right frames', async () => {
    const plan = await pipeline.plan(CLIP, 5);
    expect(plan.exactTimes).to.equal(true);
    const frames = await collect(pipeline.frames(CLIP, plan));
    expect(frames.map((f) => f.key)).to.deep.equal(['0', '55', '110', '165', '220']);
    expect(frames.map((f) => f.index)).to.deep.equal([0, 1, 2, 3, 4]);
    for (const f of frames) {
      const pts = clipTimes[Number(f.key)] ?? NaN;
      expect(f.time).to.equal(Math.round(pts * 1000) / 1000);
      expect(f.frame.data.equals(await decodeFrameAt(CLIP, Number(f.key), 640, 360)), f.key).to.equal(true);
    }
    // The video's first frame is stamped 0.852 s; the container, with its audio, starts at 0.008 s.
    expect(frames[0]?.time).to.equal(0.844);
  });

  it('when 100 frames of the clip are sampled, then one pass gives the same frames a seek would', async () => {
    const plan = await pipeline.plan(CLIP, 100);
    expect(plan.onePass).to.equal(true);
    const frames = await collect(pipeline.frames(CLIP, plan));
    expect(frames).to.have.length(100);
    expect(frames[99]?.key).to.equal('272');
    for (const i of [0, 1, 37, 99]) {
      const sample = plan.samples[i];
      const f = frames[i];
      if (!sample || !f) expect.fail(`sample ${i} missing`);
      expect(f.time).to.equal(Math.round((clipTimes[sample.frameNumber] ?? NaN) * 1000) / 1000);
      const seeked = await repository.extractFrame(CLIP, sample.pts, { probe: plan.probe, maxSide: 640 });
      expect(f.frame.data.equals(seeked.data), `frame ${sample.key}`).to.equal(true);
    }
  });

  it('when a 10-minute video is sampled 5 times, then it seeks and each frame is the right one', async () => {
    // 66 copies of the clip back to back; stream copy makes this fast.
    const long = path.join(dir, 'ten-minutes.mp4');
    await ffmpeg('-stream_loop', '65', '-i', CLIP, '-map', '0:v:0', '-c', 'copy', long);
    const plan = await pipeline.plan(long, 5);
    expect(plan.probe.durationS).to.be.greaterThan(600);
    expect(plan.probe.frameCount).to.equal(275 * 66);
    expect(plan.onePass).to.equal(false);

    const frames = await collect(pipeline.frames(long, plan));
    expect(frames.map((f) => f.key)).to.deep.equal(['0', '3630', '7260', '10890', '14520']);

    const packetTimes = (
      await ffprobe('-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', long)
    )
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(Number)
      .sort((a, b) => a - b);
    const start = await containerStart(long);
    for (const f of frames) {
      expect(f.time).to.equal(Math.round(((packetTimes[Number(f.key)] ?? NaN) - start) * 1000) / 1000);
      // Every copy starts on a keyframe, so frame n decodes to the clip's frame n mod 275.
      const reference = await decodeFrameAt(CLIP, Number(f.key) % 275, 640, 360);
      expect(f.frame.data.equals(reference), f.key).to.equal(true);
    }
  });

  it('when the container does not state the frame count (MKV), then the timeline still gives exact frames', async () => {
    const mkv = path.join(dir, 'clip.mkv');
    await ffmpeg('-i', CLIP, '-c', 'copy', mkv);
    const plan = await pipeline.plan(mkv, 5);
    expect(plan.probe.frameCountEstimated).to.equal(true);
    expect(plan.exactTimes).to.equal(true);
    const times = await playerFrameTimes(mkv);
    expect(times).to.have.length(275);
    for (const onePass of [true, false]) {
      const frames = await collect(pipeline.frames(mkv, { ...plan, onePass }));
      expect(frames.map((f) => f.key)).to.deep.equal(['0', '55', '110', '165', '220']);
      for (const f of frames) {
        expect(f.time).to.equal(Math.round((times[Number(f.key)] ?? NaN) * 1000) / 1000);
        expect(f.frame.data.equals(await decodeFrameAt(mkv, Number(f.key), 640, 360)), f.key).to.equal(true);
      }
    }
  });

  it('when the file has only an audio stream, then planning refuses it with a clear message', async () => {
    const audio = path.join(dir, 'sine.m4a');
    await ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'aac', audio);
    const err = await pipeline.plan(audio, 5).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(UnsupportedMediaError);
    expect((err as Error).message).to.equal(
      'The media has no video stream; send an image or a video with a video track',
    );
  });

  it('when the consumer stops after the first frame, then the iteration ends cleanly', async () => {
    const plan = await pipeline.plan(CLIP, 20);
    const frames = pipeline.frames(CLIP, plan);
    const first = await frames.next();
    expect(first.value).to.include({ key: '0' });
    const end = await frames.return(undefined);
    expect(end.done).to.equal(true);
  });
});
