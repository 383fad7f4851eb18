import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UnsupportedMediaError } from '../../shared/errors/errors.js';
import type { ByteSource } from './byte-source.js';
import { VIDEO_MESSAGES } from './video-messages.js';

/**
 * An MP4 or MOV read by range keeps its whole timing in its boxes (moov, or moof per fragment), not in
 * the media data (mdat). A sparse local copy that holds those boxes at their offsets, with holes for the
 * media data, lets ffprobe list the very packets it lists for the downloaded file, without reading the
 * media: the same code gives the same keys and times either way. Holes cost no disk.
 */

/** Top-level boxes walked; a plain MP4 has 3–6, a fragmented one two per fragment. */
const MAX_BOXES = 64;
/** What is copied, all boxes but media data together; an hour of 30 fps H.264 has a 2 MB moov. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;
const PIECE_BYTES = 1024 * 1024;
/** Boxes whose payload no demuxer reads for timing. */
const PAYLOAD_SKIPPED = new Set(['mdat', 'free', 'skip', 'wide']);

interface Box {
  type: string;
  offset: number;
  size: number;
  header: number;
}

/**
 * Runs `use` with the path of the index copy; undefined when the file has too many boxes, or too large
 * an index, for a copy (a finely fragmented MP4): its timing then needs the whole file. A box that runs
 * past the end of the file is the file's own evidence of having been cut.
 */
export async function withMp4IndexCopy<T>(
  source: ByteSource,
  use: (file: string) => Promise<T>,
): Promise<T | undefined> {
  const boxes = await topLevelBoxes(source);
  if (!boxes) return undefined;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'facedetect-index-'));
  try {
    const file = path.join(dir, 'index.mp4');
    const out = await open(file, 'w');
    try {
      await out.truncate(source.size);
      for (const box of boxes) {
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
