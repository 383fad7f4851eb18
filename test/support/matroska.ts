/**
 * A minimal Matroska writer for hostile files: headers that claim what we like, and blocks we count.
 * Real muxers refuse to write such files, so the tests write the bytes themselves.
 */

/** An EBML element ID's bytes are its own length marker, so IDs are written as given. */
function element(id: number, body: Buffer): Buffer {
  const hex = id.toString(16);
  const idBytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  return Buffer.concat([idBytes, sizeVint(body.length), body]);
}

/** Sizes as 8-byte vints: any size up to 2^56 − 2. */
function sizeVint(size: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(size) | (1n << 56n));
  return b;
}

const uint = (id: number, value: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(value));
  return element(id, b);
};
const float = (id: number, value: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(value);
  return element(id, b);
};
const text = (id: number, value: string) => element(id, Buffer.from(value, 'ascii'));

export interface MatroskaOptions {
  /** The Info Duration, in seconds, as the header claims it. */
  durationS: number;
  /** The track's default frame duration, in seconds: with the duration, the frame count ffprobe infers. */
  frameDurationS: number;
  /** SimpleBlocks written, each a one-byte frame; 0 gives one empty cluster. */
  blocks: number;
}

/** One MJPEG 320×240 track whose header claims `durationS`, followed by `blocks` one-byte frames. */
export function hostileMatroska({ durationS, frameDurationS, blocks }: MatroskaOptions): Buffer {
  const header = element(
    0x1a45dfa3,
    Buffer.concat([
      uint(0x4286, 1),
      uint(0x42f7, 1),
      uint(0x42f2, 4),
      uint(0x42f3, 8),
      text(0x4282, 'matroska'),
      uint(0x4287, 4),
      uint(0x4285, 2),
    ]),
  );
  const info = element(
    0x1549a966,
    Buffer.concat([
      uint(0x2ad7b1, 1_000_000),
      float(0x4489, durationS * 1000),
      text(0x4d80, 'test'),
      text(0x5741, 'test'),
    ]),
  );
  const video = element(0xe0, Buffer.concat([uint(0xb0, 320), uint(0xba, 240)]));
  const track = element(
    0xae,
    Buffer.concat([
      uint(0xd7, 1),
      uint(0x73c5, 1),
      uint(0x83, 1),
      text(0x86, 'V_MJPEG'),
      uint(0x23e383, Math.round(frameDurationS * 1e9)),
      video,
    ]),
  );
  const tracks = element(0x1654ae6b, track);
  const segment = element(0x18538067, Buffer.concat([info, tracks, ...clusters(blocks)]));
  return Buffer.concat([header, segment]);
}

/** Clusters of one-byte keyframe SimpleBlocks, 1 ms apart, a new cluster before the int16 offset overflows. */
function clusters(blocks: number): Buffer[] {
  const perCluster = 30_000;
  const out: Buffer[] = [];
  // ID 0xA3, size 5 (as a 1-byte vint), track 1, timecode offset, keyframe flag, one byte of frame.
  const block = Buffer.from([0xa3, 0x85, 0x81, 0, 0, 0x80, 0]);
  for (let first = 0; first < Math.max(1, blocks); first += perCluster) {
    const count = Math.min(perCluster, blocks - first);
    const body = Buffer.alloc(count * block.length);
    for (let i = 0; i < count; i++) {
      block.writeInt16BE(i, 3);
      block.copy(body, i * block.length);
    }
    out.push(element(0x1f43b675, Buffer.concat([uint(0xe7, first), body])));
  }
  return out;
}
