import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { looksLikeText } from '../../shared/media/looks-like-text.js';
import { sniffMedia, SNIFF_BYTES } from '../../shared/media/media-sniffer.js';
import { image } from '../support/fixtures.js';
import { ffmpeg, scratchDir } from '../support/video-fixtures.js';

/** A tenth of a second of the fixture photo, small, in each container people send. */
const VIDEOS: [file: string, args: string[], format: string][] = [
  ['a.mp4', ['-c:v', 'libx264'], 'mp4'],
  ['a.m4v', ['-c:v', 'libx264'], 'mp4'],
  ['a.3gp', ['-s', '176x144', '-c:v', 'h263'], 'mp4'],
  ['a.mov', ['-c:v', 'libx264'], 'mov'],
  ['a.mkv', ['-c:v', 'libx264'], 'matroska'],
  ['a.webm', ['-c:v', 'libvpx'], 'matroska'],
  ['a.avi', ['-c:v', 'mpeg4'], 'avi'],
  ['a.flv', ['-c:v', 'flv'], 'flv'],
  ['a.ogv', ['-c:v', 'libtheora'], 'ogg'],
  ['a.mpg', ['-c:v', 'mpeg2video', '-f', 'vob'], 'mpeg'],
  ['a.ts', ['-c:v', 'libx264', '-f', 'mpegts'], 'mpegts'],
];

describe('sniffMedia', function () {
  this.timeout(60_000);
  let jpeg: Buffer;
  before(async () => {
    jpeg = await sharp(await readFile(image('obama.jpg')))
      .resize(64, 64)
      .jpeg()
      .toBuffer();
  });

  it('when an image is sent in any format the decoder reads, then its format is named from its bytes', async () => {
    const { dir, remove } = await scratchDir();
    try {
      const bmp = path.join(dir, 'a.bmp');
      await ffmpeg('-i', image('obama.jpg'), '-s', '64x64', '-pix_fmt', 'bgr24', bmp);
      const made: [Buffer, string][] = [
        [jpeg, 'jpeg'],
        [await sharp(jpeg).png().toBuffer(), 'png'],
        [await sharp(jpeg).webp().toBuffer(), 'webp'],
        [await sharp(jpeg).gif().toBuffer(), 'gif'],
        [await sharp(jpeg).tiff().toBuffer(), 'tiff'],
        [await sharp(jpeg).avif().toBuffer(), 'avif'],
        [await readFile(bmp), 'bmp'],
      ];
      const sniffed = await Promise.all(made.map(([bytes]) => sniffMedia(bytes)));
      expect(sniffed.map((s) => s.kind === 'image' && s.format)).to.deep.equal(made.map(([, f]) => f));
    } finally {
      await remove();
    }
  });

  it('when a video is sent in any container ffmpeg writes, then it is a video and its container is named', async () => {
    const { dir, remove } = await scratchDir();
    try {
      const found: string[] = [];
      for (const [name, args] of VIDEOS) {
        const file = path.join(dir, name);
        await ffmpeg('-loop', '1', '-i', image('obama.jpg'), '-t', '0.1', '-s', '160x120', ...args, file);
        const sniffed = await sniffMedia(await readFile(file));
        found.push(sniffed.kind === 'video' ? sniffed.format : `${name} read as ${sniffed.kind}`);
      }
      expect(found).to.deep.equal(VIDEOS.map(([, , format]) => format));
    } finally {
      await remove();
    }
  });

  it('when a HEIF names an HEVC brand, then it is told from a generic HEIF, which may hold AV1', async () => {
    const heif = (brand: string) =>
      Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from(`ftyp${brand}\0\0\0\0mif1heic`)]);
    expect(await sniffMedia(heif('heic'))).to.include({ kind: 'image', format: 'heic' });
    expect(await sniffMedia(heif('mif1'))).to.include({ kind: 'image', format: 'heif' });
  });

  it('when the bytes are of a known type that is no media, then it is unknown but its type is named', async () => {
    const zip = await sniffMedia(Buffer.from('PK\x03\x04\x14\x00\x00\x00\x08\x00', 'latin1'));
    expect(zip).to.deep.equal({ kind: 'unknown', mime: 'application/zip' });
    expect(await sniffMedia(Buffer.from('<!doctype html>'))).to.deep.equal({ kind: 'unknown' });
    expect(await sniffMedia(Buffer.alloc(0))).to.deep.equal({ kind: 'unknown' });
  });

  it('when a file is large, then only its head is read, and a tail past the head changes nothing', async () => {
    const big = Buffer.concat([jpeg, Buffer.alloc(SNIFF_BYTES * 4, 0x47)]);
    expect(await sniffMedia(big)).to.deep.equal({ kind: 'image', format: 'jpeg', mime: 'image/jpeg' });
  });
});

describe('looksLikeText', () => {
  it('when bytes are a web page, JSON, or UTF-8 prose, then they are text', () => {
    const texts = ['<!doctype html><p>hi', '  {"error":"not found"}', 'Grüße, plain text\n'];
    expect(texts.map((t) => looksLikeText(Buffer.from(t)))).to.deep.equal([true, true, true]);
    // A Latin-1 page is markup all the same.
    expect(looksLikeText(Buffer.from('<html>caf\xe9</html>', 'latin1'))).to.equal(true);
  });

  it('when bytes hold control characters or are no UTF-8, then they are no text', () => {
    expect(looksLikeText(Buffer.from([0x00, 0x01, 0x02, 0x03]))).to.equal(false);
    expect(looksLikeText(Buffer.from('caf\xe9 au lait', 'latin1'))).to.equal(false);
  });

  it('when a UTF-8 character is cut at the end of the head, then the text still counts', () => {
    const text = Buffer.from('a'.repeat(511) + 'é');
    expect(looksLikeText(text)).to.equal(true);
  });
});
