import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UnsupportedMediaError } from '../../shared/errors/errors.js';
import type { ByteSource } from './byte-source.js';
import { VIDEO_MESSAGES } from './video-messages.js';

/**
 * An MP4 or MOV read by range keeps its whole timing in its boxes (moov, or moof per fragment), not in
 * the media data (mdat). A sparse local copy that holds those boxes at their offsets, with holes for the
 * media data, lets ffprobe list the very packets it lists for the downloaded file: the same code gives
 * the same keys and times either way. Holes cost no disk, but reading them costs time (about 0.3 GB/s
 * here), so the copy's sample size tables say one byte per sample: ffprobe then reads a byte per packet
 * whatever the file's size, and the timing tables (stts, ctts, elst, stss) are the file's own.
 */

/** Top-level boxes walked; a plain MP4 has 3–6, a fragmented one two per fragment. */
const MAX_BOXES = 64;
/** What is copied, all boxes but media data together; an hour of 30 fps H.264 has a 2 MB moov. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;
const PIECE_BYTES = 1024 * 1024;
/**
 * A fragmented MP4 keeps its sample sizes in each moof, which are not rewritten; its copy is read whole,
 * so it is made only for files up to this size.
 */
const MAX_FRAGMENTED_BYTES = 1024 * 1024 * 1024;
/** Boxes whose payload no demuxer reads for timing. */
const PAYLOAD_SKIPPED = new Set(['mdat', 'free', 'skip', 'wide']);

interface Box {
  type: string;
  offset: number;
  size: number;
  header: number;
}

/** Entries of a chunk offset table checked between two turns of the event loop. */
const OFFSETS_PER_TURN = 65_536;
/** Boxes on the way from moov to its sample tables: trak, mdia, minf, stbl. */
const OFFSET_TABLE_PATH = ['trak', 'mdia', 'minf', 'stbl'];

export interface Mp4Boxes {
  boxes: Box[];
  /** The moov boxes' bytes, header included, by offset. */
  moovs: Map<number, Buffer>;
}

/**
 * The file's top-level boxes, checked against its own evidence of having been cut: a box that runs past
 * the end of the file, or a chunk offset (stco, co64) pointing beyond it. Undefined when the file has too
 * many boxes, or too large an index, to copy (a finely fragmented MP4): its timing needs the whole file.
 */
export async function readMp4Boxes(source: ByteSource): Promise<Mp4Boxes | undefined> {
  const boxes = await topLevelBoxes(source);
  if (!boxes) return undefined;
  if (boxes.some((b) => b.type === 'moof') && source.size > MAX_FRAGMENTED_BYTES) return undefined;
  const moovs = new Map<number, Buffer>();
  for (const box of boxes.filter((b) => b.type === 'moov')) {
    const moov = await source.read(box.offset, box.size);
    await checkChunkOffsets(moov.subarray(box.header), source.size);
    moovs.set(box.offset, moov);
  }
  return { boxes, moovs };
}

/** The sample tables (trak/mdia/minf/stbl children) of the given types, as views into moov's body. */
function sampleTables(moov: Buffer, types: readonly string[]): { type: string; body: Buffer }[] {
  const tables: { type: string; body: Buffer }[] = [];
  const descend = (body: Buffer, depth: number) => {
    for (const child of children(body)) {
      if (depth < OFFSET_TABLE_PATH.length && child.type === OFFSET_TABLE_PATH[depth])
        descend(child.body, depth + 1);
      else if (depth === OFFSET_TABLE_PATH.length && types.includes(child.type)) tables.push(child);
    }
  };
  descend(moov, 0);
  return tables;
}

/**
 * Makes every sample one byte long for the copy: stsz's constant size field, when set, makes ffmpeg
 * ignore the per-sample table that follows it. Tables of a constant size already are left as they are.
 */
function oneByteSamples(moovBody: Buffer): void {
  for (const { body } of sampleTables(moovBody, ['stsz'])) {
    if (body.length >= 12 && body.readUInt32BE(4) === 0) body.writeUInt32BE(1, 4);
  }
}

/** Walks moov's tracks down to their chunk offset tables; every offset must lie inside the file. */
async function checkChunkOffsets(moov: Buffer, fileSize: number): Promise<void> {
  for (const { type, body } of sampleTables(moov, ['stco', 'co64'])) {
    const width = type === 'co64' ? 8 : 4;
    const count = Math.min(
      body.length >= 8 ? body.readUInt32BE(4) : 0,
      Math.floor((body.length - 8) / width),
    );
    for (let i = 0; i < count; i++) {
      if (i % OFFSETS_PER_TURN === OFFSETS_PER_TURN - 1)
        await new Promise((resolve) => setImmediate(resolve));
      const at = 8 + i * width;
      const offset = width === 8 ? Number(body.readBigUInt64BE(at)) : body.readUInt32BE(at);
      if (offset >= fileSize) {
        throw new UnsupportedMediaError(VIDEO_MESSAGES.truncated, {
          cause: new Error(`${type} points at ${offset}, the file has ${fileSize} bytes`),
        });
      }
    }
  }
}

/** The boxes directly inside a box's body; a child that overruns its parent ends the list. */
function children(body: Buffer): { type: string; body: Buffer }[] {
  const found: { type: string; body: Buffer }[] = [];
  for (let at = 0; at + 8 <= body.length;) {
    const size = body.readUInt32BE(at);
    if (size < 8 || at + size > body.length) break;
    found.push({ type: body.toString('latin1', at + 4, at + 8), body: body.subarray(at + 8, at + size) });
    at += size;
  }
  return found;
}

/**
 * Runs `use` with the path of a sparse copy of the file that holds every box but the media data, at
 * their offsets.
 */
export async function withMp4IndexCopy<T>(
  source: ByteSource,
  { boxes, moovs }: Mp4Boxes,
  use: (file: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'facedetect-index-'));
  try {
    const file = path.join(dir, 'index.mp4');
    const out = await open(file, 'w');
    try {
      await out.truncate(source.size);
      for (const box of boxes) {
        const moov = moovs.get(box.offset);
        if (moov) {
          oneByteSamples(moov.subarray(box.header));
          await out.write(moov, 0, moov.length, box.offset);
          continue;
        }
        const end = box.offset + (PAYLOAD_SKIPPED.has(box.type) ? box.header : box.size);
        for (let at = box.offset; at < end; at += PIECE_BYTES) {
          const piece = await source.read(at, Math.min(PIECE_BYTES, end - at));
          await out.write(piece, 0, piece.length, at);
        }
      }
    } finally {
      await out.close();
    }
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function topLevelBoxes(source: ByteSource): Promise<Box[] | undefined> {
  const boxes: Box[] = [];
  let copied = 0;
  for (let offset = 0; offset + 8 <= source.size;) {
    if (boxes.length === MAX_BOXES) return undefined;
    const head = await source.read(offset, 16);
    const type = head.toString('latin1', 4, 8);
    let size = head.readUInt32BE(0);
    let header = 8;
    if (size === 1 && head.length === 16) {
      size = Number(head.readBigUInt64BE(8));
      header = 16;
    } else if (size === 0) {
      size = source.size - offset;
    }
    if (size < header) throw unreadable(`box ${type} of ${size} bytes at ${offset}`);
    if (offset + size > source.size) {
      throw new UnsupportedMediaError(VIDEO_MESSAGES.truncated, {
        cause: new Error(`box ${type} declares ${offset + size} bytes, the file has ${source.size}`),
      });
    }
    if (!PAYLOAD_SKIPPED.has(type)) copied += size;
    if (copied > MAX_INDEX_BYTES) return undefined;
    boxes.push({ type, offset, size, header });
    offset += size;
  }
  return boxes;
}

function unreadable(detail: string): UnsupportedMediaError {
  return new UnsupportedMediaError(VIDEO_MESSAGES.unreadable, { cause: new Error(detail) });
}
