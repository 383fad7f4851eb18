import { expect } from 'chai';
import { PayloadTooLargeError, UnsupportedMediaError } from '../../shared/errors/errors.js';
import { readAviIndex, readAviLayout } from '../../worker/video/avi-index.js';
import { TimelineBuilder, type FrameTimeline } from '../../worker/video/frame-timeline.js';
import { syntheticAvi, type AviSpec } from '../support/avi.js';
import { bufferSource } from '../support/buffer-source.js';

const TRUNCATED = 'The video is truncated or incomplete; send the whole file';

async function timelineOf(bytes: Buffer, reorderDelay = 0, maxFrames = 1000): Promise<FrameTimeline> {
  const source = bufferSource(bytes);
  const layout = await readAviLayout(source, 0);
  if (!layout) throw new Error('no index');
  const builder = new TimelineBuilder(maxFrames);
  await readAviIndex(source, layout, 0, builder, maxFrames);
  const timeline = builder.finish(reorderDelay, layout.rate / layout.scale);
  if (!timeline) throw new Error('no times');
  return timeline;
}

const times = (t: FrameTimeline) => Array.from({ length: t.count }, (_, i) => t.ptsOf(i));
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('expected a refusal'),
    (e: unknown) => e as Error,
  );

describe('AVI index (idx1)', () => {
  // As ffmpeg writes a clip whose video starts 0.1 s late: the first picture, three dropped frames, four more.
  const late: AviSpec = { chunks: [500, 0, 0, 0, 40, 40, 40, 40], scale: 1, rate: 30 };

  it('when an AVI holds dropped-frame chunks, then they are no pictures and only move the clock', async () => {
    const timeline = await timelineOf(syntheticAvi(late));
    expect(timeline.count).to.equal(5);
    expect(times(timeline).map((t) => Math.round(t * 30))).to.deep.equal([0, 4, 5, 6, 7]);
    expect(timeline.keyframes).to.deep.equal([0]);
  });

  it('when the decoder holds B-frames back, then each picture takes the time of the packet as many pictures later', async () => {
    // ffmpeg stamps the first picture with the time of the third packet it was fed: tick 5, not 0.
    const timeline = await timelineOf(syntheticAvi(late), 2);
    expect(times(timeline).map((t) => Math.round(t * 30))).to.deep.equal([5, 6, 7, 8, 9]);
  });

  it('when offsets are absolute, or audio entries are interleaved, then the same pictures come out', async () => {
    const plain = times(await timelineOf(syntheticAvi(late)));
    expect(times(await timelineOf(syntheticAvi({ ...late, absoluteOffsets: true })))).to.deep.equal(plain);
    expect(times(await timelineOf(syntheticAvi({ ...late, withAudio: true })))).to.deep.equal(plain);
  });

  it('when the file is cut in half, then its RIFF length says so and it is refused as truncated', async () => {
    const bytes = syntheticAvi({ chunks: Array<number>(40).fill(300) });
    const err = await refusal(readAviLayout(bufferSource(bytes.subarray(0, bytes.length >> 1)), 0));
    expect(err).to.be.instanceOf(UnsupportedMediaError);
    expect(err.message).to.equal(TRUNCATED);
  });

  it('when an index entry points past the end of the file, then it is refused as truncated', async () => {
    const bytes = syntheticAvi({ chunks: [300, 300, 300] });
    // The last entry's offset, moved far beyond the file.
    bytes.writeUInt32LE(10_000_000, bytes.length - 16 + 8);
    const err = await refusal(timelineOf(bytes));
    expect(err.message).to.equal(TRUNCATED);
  });

  it('when the index lists more pictures than MAX_VIDEO_FRAMES, then 413 names it', async () => {
    const err = await refusal(timelineOf(syntheticAvi({ chunks: Array<number>(50).fill(10) }), 0, 20));
    expect(err).to.be.instanceOf(PayloadTooLargeError);
    expect(err.message).to.match(/more than 20 frames.*MAX_VIDEO_FRAMES/);
  });

  it('when the index holds far more entries than the frame limit allows, then 413 comes before any entry is read', async () => {
    const source = bufferSource(syntheticAvi({ chunks: Array<number>(400).fill(0) }));
    const layout = await readAviLayout(source, 0);
    if (!layout) expect.fail('no index');
    const before = source.reads;
    const err = await refusal(readAviIndex(source, layout, 0, new TimelineBuilder(10), 10));
    expect(err).to.be.instanceOf(PayloadTooLargeError);
    expect(source.reads).to.equal(before);
  });

  it('when the file has no idx1, then no layout is given and the caller reads the packets instead', async () => {
    expect(await readAviLayout(bufferSource(syntheticAvi({ ...late, noIndex: true })), 0)).to.equal(
      undefined,
    );
  });
});
