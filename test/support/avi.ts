/** What a synthetic AVI holds: its video chunks' sizes in file order (0 is a "dropped frame"), keyframes by position. */
export interface AviSpec {
  chunks: number[];
  keyframes?: number[];
  scale?: number;
  rate?: number;
  /** idx1 offsets from the file's start rather than from the movi list. */
  absoluteOffsets?: boolean;
  /** Entries of an audio stream (01wb) between video entries. */
  withAudio?: boolean;
  /** Leaves idx1 out, as a capture cut before its end or a streaming writer does. */
  noIndex?: boolean;
}

const chunk = (id: string, body: Buffer) => {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body, Buffer.alloc(body.length & 1)]);
};
const list = (type: string, body: Buffer) =>
  chunk('LIST', Buffer.concat([Buffer.from(type, 'latin1'), body]));

/** A minimal AVI as ffmpeg's muxer lays one out: hdrl, movi, idx1. Its chunks hold no real pictures. */
export function syntheticAvi(spec: AviSpec): Buffer {
  const strh = Buffer.alloc(56);
  strh.write('vids', 0, 'latin1');
  strh.write('H264', 4, 'latin1');
  strh.writeUInt32LE(spec.scale ?? 1001, 20);
  strh.writeUInt32LE(spec.rate ?? 30000, 24);
  strh.writeUInt32LE(spec.chunks.length, 32);
  const hdrl = list(
    'hdrl',
    Buffer.concat([chunk('avih', Buffer.alloc(56)), list('strl', chunk('strh', strh))]),
  );
  const entries: Buffer[] = [];
  const body: Buffer[] = [];
  let at = 4; // offsets count from the movi list's fourcc
  const moviList = 12 + hdrl.length + 8;
  const add = (id: string, size: number, key: boolean) => {
    const entry = Buffer.alloc(16);
    entry.write(id, 0, 'latin1');
    entry.writeUInt32LE(key ? 0x10 : 0, 4);
    entry.writeUInt32LE(spec.absoluteOffsets ? moviList + at : at, 8);
    entry.writeUInt32LE(size, 12);
    entries.push(entry);
    const c = chunk(id, Buffer.alloc(size, 0x42));
    body.push(c);
    at += c.length;
  };
  spec.chunks.forEach((size, i) => {
    add('00dc', size, spec.keyframes?.includes(i) ?? i === 0);
    if (spec.withAudio) add('01wb', 100, true);
  });
  const movi = list('movi', Buffer.concat(body));
  const idx1 = spec.noIndex ? Buffer.alloc(0) : chunk('idx1', Buffer.concat(entries));
  const riff = Buffer.concat([Buffer.from('AVI ', 'latin1'), hdrl, movi, idx1]);
  const head = Buffer.alloc(8);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(riff.length, 4);
  return Buffer.concat([head, riff]);
}
