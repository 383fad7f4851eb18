import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnsupportedMediaError } from '../../shared/errors/errors.js';
import type { ExtractOptions, RawFrame, VideoProbe } from '../../worker/video/ffmpeg.repository.js';
import { FramePipeline, type FrameSource } from '../../worker/video/frame-pipeline.js';

const PROBE: VideoProbe = {
  hasVideo: true,
  streamIndex: 0,
  width: 64,
  height: 36,
  rotation: 0,
  durationS: 10,
  fps: 10,
  frameCount: 100,
  frameCountEstimated: false,
  startTime: 0,
  codedPixels: 64 * 36,
  originTime: 0,
  container: 'mov,mp4,m4a,3gp,3g2,mj2',
  reorderDelay: 0,
};

const rawFrame = (marker: number): RawFrame => ({
  data: Buffer.from([marker]),
  width: 1,
  height: 1,
  channels: 3,
});

/** A stand-in for ffmpeg that records how the pipeline drives it. */
class FakeSource implements FrameSource {
  inFlight = 0;
  maxInFlight = 0;
  started: number[] = [];
  aborted = 0;
  failAt: number | undefined;

  constructor(
    private readonly probeResult: VideoProbe = PROBE,
    private readonly keyframes: number[] = [],
  ) {}

  probe() {
    return Promise.resolve(this.probeResult);
  }

  readTimeline() {
    const count = this.probeResult.frameCount;
    return Promise.resolve({ count, ptsOf: (i: number) => i / 10, keyframes: this.keyframes, exact: true });
  }

  async extractFrame(_file: string, timeS: number, options: ExtractOptions): Promise<RawFrame> {
    const frame = Math.max(0, Math.round(timeS * 10));
    this.started.push(frame);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      // Later frames finish first, so order must come from the pipeline.
      await sleep(frame % 20 === 0 ? 15 : 2, undefined, { signal: options.signal });
      if (frame === this.failAt) throw new UnsupportedMediaError('damaged');
      return rawFrame(frame);
    } catch (err) {
      if (!options.signal?.aborted) throw err;
      this.aborted += 1;
      throw options.signal.reason;
    } finally {
      this.inFlight -= 1;
    }
  }

  async *extractFrames(_file: string, frameNumbers: readonly number[]): AsyncGenerator<RawFrame> {
    for (const frame of frameNumbers) {
      this.started.push(frame);
      await sleep(1);
      yield rawFrame(frame);
    }
  }
}

describe('FramePipeline', () => {
  it('when planned, then samples follow the timeline and the probe is kept', async () => {
    const plan = await new FramePipeline(new FakeSource(), { maxFrames: 1000 }).plan('v.mp4', 5);
    expect(plan.samples.map((s) => s.key)).to.deep.equal(['0', '20', '40', '60', '80']);
    expect(plan.samples.map((s) => s.time)).to.deep.equal([0, 2, 4, 6, 8]);
    expect(plan.onePass).to.equal(false);
    expect(plan.probe).to.equal(PROBE);
  });

  it('when the media has no video stream, then planning fails with UnsupportedMediaError', async () => {
    const pipeline = new FramePipeline(new FakeSource({ ...PROBE, hasVideo: false }), { maxFrames: 1000 });
    const err = await pipeline.plan('a.m4a', 5).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UnsupportedMediaError);
    expect((err as Error).message).to.match(/no video stream/);
  });

  it('when frames finish out of order, then they are yielded in sample order', async () => {
    const source = new FakeSource();
    const pipeline = new FramePipeline(source, { maxFrames: 1000 });
    const plan = await pipeline.plan('v.mp4', 10);
    const seen: string[] = [];
    for await (const { key, frame, index } of pipeline.frames('v.mp4', plan)) {
      expect(frame.data[0]).to.equal(Number(key));
      expect(index).to.equal(seen.length);
      seen.push(key);
    }
    expect(seen).to.deep.equal(['0', '10', '20', '30', '40', '50', '60', '70', '80', '90']);
  });

  it('when the consumer is slow, then at most `concurrency` extractions run and only `lookahead` start ahead', async () => {
    const source = new FakeSource();
    const pipeline = new FramePipeline(source, { concurrency: 2, lookahead: 3, maxFrames: 1000 });
    const plan = await pipeline.plan('v.mp4', 10);
    for await (const { index } of pipeline.frames('v.mp4', plan)) {
      await sleep(20);
      expect(source.started.length).to.be.at.most(index + 1 + 3);
    }
    expect(source.maxInFlight).to.equal(2);
  });

  it('when the consumer stops early, then extractions in flight are aborted and none is left', async () => {
    const source = new FakeSource();
    const pipeline = new FramePipeline(source, { concurrency: 2, lookahead: 2, maxFrames: 1000 });
    const plan = await pipeline.plan('v.mp4', 10);
    for await (const { index } of pipeline.frames('v.mp4', plan)) {
      if (index === 1) break;
    }
    expect(source.inFlight).to.equal(0);
    expect(source.aborted).to.be.greaterThan(0);
    expect(source.started.length).to.be.at.most(4);
  });

  it('when a later frame fails, then earlier frames are still delivered and the error comes in its turn', async () => {
    const source = new FakeSource();
    source.failAt = 30;
    const pipeline = new FramePipeline(source, { maxFrames: 1000 });
    const plan = await pipeline.plan('v.mp4', 10);
    const seen: string[] = [];
    const err = await (async () => {
      for await (const { key } of pipeline.frames('v.mp4', plan)) seen.push(key);
    })().catch((e: unknown) => e);
    expect(seen).to.deep.equal(['0', '10', '20']);
    expect(err).to.be.instanceOf(UnsupportedMediaError);
    expect(source.inFlight).to.equal(0);
  });

  it('when the caller aborts, then iteration ends with the abort reason', async () => {
    const source = new FakeSource();
    const pipeline = new FramePipeline(source, { maxFrames: 1000 });
    const plan = await pipeline.plan('v.mp4', 10);
    const controller = new AbortController();
    const err = await (async () => {
      for await (const { index } of pipeline.frames('v.mp4', plan, controller.signal)) {
        if (index === 2) controller.abort(new Error('job cancelled'));
      }
    })().catch((e: unknown) => e);
    expect((err as Error).message).to.equal('job cancelled');
    expect(source.inFlight).to.equal(0);
  });

  it('when samples are dense against keyframes, then one decoding pass delivers them in order', async () => {
    const source = new FakeSource(PROBE, [0]);
    const pipeline = new FramePipeline(source, { maxFrames: 1000 });
    const plan = await pipeline.plan('v.mp4', 50);
    expect(plan.onePass).to.equal(true);
    const keys: string[] = [];
    for await (const { key, frame } of pipeline.frames('v.mp4', plan)) {
      expect(frame.data[0]).to.equal(Number(key));
      keys.push(key);
    }
    expect(keys).to.have.length(50);
    expect(keys[1]).to.equal('2');
  });
});
