import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { UnsupportedMediaError } from '../../shared/errors/errors.js';
import { readMp4Boxes, withMp4IndexCopy } from '../../worker/video/mp4-index.js';
import { bufferSource } from '../support/buffer-source.js';

const TRUNCATED = 'The video is truncated or incomplete; send the whole file';

const box = (type: string, ...body: Buffer[]) => {
  const content = Buffer.concat(body);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + content.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, content]);
};
/** A chunk offset table (full box: version and flags, count, offsets). */
const stco = (...offsets: number[]) => {
  const body = Buffer.alloc(8 + 4 * offsets.length);
  body.writeUInt32BE(offsets.length, 4);
  offsets.forEach((o, i) => body.writeUInt32BE(o, 8 + 4 * i));
  return box('stco', body);
};
/** A sample size table, one size per sample (the constant size field 0). */
const stsz = (...sizes: number[]) => {
  const body = Buffer.alloc(12 + 4 * sizes.length);
  body.writeUInt32BE(sizes.length, 8);
  sizes.forEach((size, i) => body.writeUInt32BE(size, 12 + 4 * i));
  return box('stsz', body);
};
const moov = (...offsets: number[]) =>
  box('moov', box('trak', box('mdia', box('minf', box('stbl', stsz(4000, 900), stco(...offsets))))));
const ftyp = box('ftyp', Buffer.from('isom\0\0\0\0isom', 'latin1'));

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('expected a refusal'),
    (e: unknown) => e as Error,
  );

describe('MP4 boxes for a range read', () => {
  it('when the index is copied, then the copy holds every box but the media data, at its offset', async () => {
    const mdat = box('mdat', Buffer.alloc(5000, 0x42));
    const file = Buffer.concat([ftyp, mdat, moov(ftyp.length + 8)]);
    const source = bufferSource(file);
    const boxes = await readMp4Boxes(source);
    if (!boxes) expect.fail('the boxes were not read');
    const copy = await withMp4IndexCopy(source, boxes, (path) => readFile(path));
    expect(copy.length).to.equal(file.length);
    expect(copy.subarray(0, ftyp.length + 8)).to.deep.equal(file.subarray(0, ftyp.length + 8));
    expect(copy.subarray(ftyp.length + 8, ftyp.length + mdat.length).every((b) => b === 0)).to.equal(true);
    const moovAt = ftyp.length + mdat.length;
    // The sample sizes say one byte each, so ffprobe reads a byte per packet, not the holes of the media.
    const sizes = copy.indexOf(Buffer.from('stsz'), moovAt) + 4;
    expect(copy.readUInt32BE(sizes + 4), 'the constant sample size').to.equal(1);
    const rest = (b: Buffer) => Buffer.concat([b.subarray(moovAt, sizes + 4), b.subarray(sizes + 8)]);
    expect(rest(copy), "every other byte of moov is the file's").to.deep.equal(rest(file));
  });

  it('when a chunk offset points past the end of the file, then it is refused as truncated', async () => {
    const file = Buffer.concat([ftyp, box('mdat', Buffer.alloc(100)), moov(48, 1_000_000)]);
    const err = await refusal(readMp4Boxes(bufferSource(file)));
    expect(err).to.be.instanceOf(UnsupportedMediaError);
    expect(err.message).to.equal(TRUNCATED);
  });

  it('when the media data declares more bytes than the file has, then it is refused as truncated', async () => {
    const file = Buffer.concat([ftyp, moov(48), box('mdat', Buffer.alloc(4000))]);
    const err = await refusal(readMp4Boxes(bufferSource(file.subarray(0, file.length - 1000))));
    expect(err.message).to.equal(TRUNCATED);
  });

  it('when a fragmented file has more boxes than a copy may walk, then none is made and the whole file is needed', async () => {
    const fragments = Array.from({ length: 40 }, () => [
      box('moof', Buffer.alloc(16)),
      box('mdat', Buffer.alloc(64)),
    ]);
    const source = bufferSource(Buffer.concat([ftyp, moov(), ...fragments.flat()]));
    expect(await readMp4Boxes(source)).to.equal(undefined);
    expect(source.reads, 'the walk stops at its limit').to.be.at.most(65);
  });
});
