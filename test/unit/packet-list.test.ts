import { expect } from 'chai';
import { PayloadTooLargeError } from '../../shared/errors/errors.js';
import { PacketListReader } from '../../worker/video/packet-list.js';

const list = (...lines: string[]) => lines.map((l) => `${l}\n`).join('');
const timesOf = (reader: PacketListReader, delay = 0, fps = 0) => {
  const timeline = reader.finish(delay, fps);
  if (!timeline) expect.fail('no timeline');
  return Array.from({ length: timeline.count }, (_, i) => timeline.ptsOf(i));
};

describe('PacketListReader', () => {
  it('when packets are empty or discarded by an edit list, then they are no pictures', () => {
    const reader = new PacketListReader(100);
    reader.push(
      list(
        'pts_time=0.000000|dts_time=0.000000|size=900|flags=K__',
        'pts_time=0.040000|dts_time=0.040000|size=0|flags=___',
        'pts_time=0.080000|dts_time=0.080000|size=50|flags=_D_',
        'pts_time=0.120000|dts_time=0.120000|size=60|flags=___',
      ),
    );
    expect(timesOf(reader)).to.deep.equal([0, 0.12]);
  });

  it('when only decoding times exist, then each picture takes the time of the packet `delay` pictures later', () => {
    const reader = new PacketListReader(100);
    // Split mid-line, as chunks of a pipe come.
    const text = list(
      'pts_time=N/A|dts_time=0.000000|size=900|flags=K__',
      'pts_time=N/A|dts_time=0.800000|size=40|flags=___',
      'pts_time=N/A|dts_time=0.840000|size=40|flags=___',
      'pts_time=N/A|dts_time=0.880000|size=40|flags=___',
    );
    reader.push(text.slice(0, 30));
    reader.push(text.slice(30));
    expect(timesOf(reader, 2, 25).map((t) => Math.round(t * 1000))).to.deep.equal([840, 880, 920, 960]);
  });

  it('when the list passes the frame limit, then 413 names MAX_VIDEO_FRAMES', () => {
    const reader = new PacketListReader(3);
    const line = 'pts_time=0.1|dts_time=0.1|size=9|flags=___';
    expect(() => reader.push(list(line, line, line, line))).to.throw(
      PayloadTooLargeError,
      /MAX_VIDEO_FRAMES/,
    );
  });
});
