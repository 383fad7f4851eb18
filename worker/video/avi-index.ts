import { UnsupportedMediaError } from '../../shared/errors/errors.js';
import type { ByteSource } from './byte-source.js';
import { tooManyFrames, type TimelineBuilder } from './frame-timeline.js';
import { VIDEO_MESSAGES } from './video-messages.js';

/**
 * An AVI's own structure, read as ffmpeg's demuxer reads it: the RIFF and `movi` lengths the file
 * declares, and its `idx1` index, which a range read fetches anyway (ffmpeg reads it on opening). Each
 * entry of a stream is one tick of its clock (`scale / rate` seconds); an empty entry is a "dropped
 * frame", which holds no picture and only moves the clock. Every count below is bounded by our limits.
 */

/** Top-level chunks walked before the index must have been found; ffmpeg writes five or six. */
const MAX_TOP_CHUNKS = 256;
/** The header list (`hdrl`) holds a few stream headers; ffmpeg's is under 10 KB with its padding. */
const MAX_HEADER_BYTES = 1024 * 1024;
/** idx1 entries are 16 bytes; read in pieces of this many bytes, each read awaited. */
const INDEX_PIECE_BYTES = 64 * 1024;
/** Entries of other streams (audio) allowed per video entry before the index counts as too large. */
const MAX_ENTRIES_PER_FRAME = 16;
const AVIIF_KEYFRAME = 0x10;

export interface AviLayout {
  /** Where the `movi` list's fourcc lies: idx1 offsets count from here, unless they are absolute. */
  moviList: number;
  idx1?: { offset: number; size: number };
  /** The stream's clock: one index entry lasts scale / rate seconds, from tick `start`. */
  scale: number;
  rate: number;
  start: number;
}

function truncated(detail: string): UnsupportedMediaError {
  return new UnsupportedMediaError(VIDEO_MESSAGES.truncated, { cause: new Error(detail) });
}

function unreadable(detail: string): UnsupportedMediaError {
  return new UnsupportedMediaError(VIDEO_MESSAGES.unreadable, { cause: new Error(detail) });
}

const fourcc = (b: Buffer, at: number) => b.toString('latin1', at, at + 4);

/**
 * The file's layout, or undefined where its idx1 does not cover it (no idx1, or an OpenDML file whose
 * later RIFF parts only its `indx` chunks index). A file that declares more bytes than it has, in its
 * RIFF or `movi` length, is refused as truncated: that is its own evidence of having been cut.
 */
export async function readAviLayout(source: ByteSource, streamIndex: number): Promise<AviLayout | undefined> {
  const head = await source.read(0, 12);
  if (head.length < 12 || fourcc(head, 0) !== 'RIFF') throw unreadable('no RIFF header');
  const riffSize = head.readUInt32LE(4);
  const riffEnd = riffSize === 0 ? source.size : 8 + riffSize;
  if (riffEnd > source.size) throw truncated(`RIFF declares ${riffEnd} bytes, the file has ${source.size}`);
  let clock: Pick<AviLayout, 'scale' | 'rate' | 'start'> | undefined;
  let moviList: number | undefined;
  let idx1: AviLayout['idx1'];
  let offset = 12;
  for (let n = 0; n < MAX_TOP_CHUNKS && offset + 8 <= riffEnd && !idx1; n += 1) {
    const chunk = await source.read(offset, 12);
    const size = chunk.readUInt32LE(4);
    const end = offset + 8 + size + (size & 1);
    if (fourcc(chunk, 0) === 'LIST' && chunk.length === 12) {
      const list = fourcc(chunk, 8);
      if (list === 'hdrl') {
        if (size > MAX_HEADER_BYTES) throw unreadable(`hdrl of ${size} bytes`);
        clock = streamClock(await source.read(offset + 12, size - 4), streamIndex);
      } else if (list === 'movi') {
        moviList = offset + 8;
        if (end > source.size) throw truncated(`movi declares ${end} bytes, the file has ${source.size}`);
      }
    } else if (fourcc(chunk, 0) === 'idx1') {
      idx1 = { offset: offset + 8, size };
      if (end > source.size) throw truncated(`idx1 declares ${end} bytes, the file has ${source.size}`);
    }
    offset = end;
  }
  if (!clock || moviList === undefined) throw unreadable('no stream header or no movi list');
  if (!idx1 || (riffEnd < source.size && (await isExtension(source, riffEnd)))) return undefined;
  return { ...clock, moviList, idx1 };
}

/** An OpenDML file goes on after the first RIFF with `RIFF…AVIX` parts, which idx1 does not index. */
async function isExtension(source: ByteSource, at: number): Promise<boolean> {
  const next = await source.read(at, 12);
  return next.length === 12 && fourcc(next, 0) === 'RIFF' && fourcc(next, 8) === 'AVIX';
}

/** The clock of stream `streamIndex` (the n-th `strl` list, as ffprobe numbers them) from its `strh`. */
function streamClock(hdrl: Buffer, streamIndex: number): Pick<AviLayout, 'scale' | 'rate' | 'start'> {
  let stream = -1;
  for (let at = 0; at + 12 <= hdrl.length;) {
    const size = hdrl.readUInt32LE(at + 4);
    if (fourcc(hdrl, at) === 'LIST' && fourcc(hdrl, at + 8) === 'strl') {
      stream += 1;
      // The strl list starts with its strh chunk: type, handler, flags, priority and language,
      // initial frames, scale, rate, start, length.
      const strh = at + 12;
      if (stream === streamIndex && fourcc(hdrl, strh) === 'strh' && strh + 8 + 32 <= hdrl.length) {
        if (fourcc(hdrl, strh + 8) !== 'vids') throw unreadable(`stream ${streamIndex} is not video`);
        const scale = hdrl.readUInt32LE(strh + 8 + 20);
        const rate = hdrl.readUInt32LE(strh + 8 + 24);
        // ffmpeg takes 25 fps for a header without a rate, as does this.
        return scale > 0 && rate > 0
          ? { scale, rate, start: hdrl.readUInt32LE(strh + 8 + 28) }
          : { scale: 1, rate: 25, start: 0 };
      }
    }
    at += 8 + size + (size & 1);
  }
  throw unreadable(`no header for stream ${streamIndex}`);
}

/**
 * Feeds the stream's entries of idx1 to the timeline, in file order, as ffmpeg's demuxer would list
 * them: a repeated position is the same packet; an empty entry advances the clock. An entry pointing
 * past the end of the file is evidence that the file was cut.
 */
export async function readAviIndex(
  source: ByteSource,
  layout: AviLayout,
  streamIndex: number,
  builder: TimelineBuilder,
  maxFrames: number,
): Promise<void> {
  const idx1 = layout.idx1;
  if (!idx1) return;
  const entries = Math.floor(idx1.size / 16);
  if (entries > maxFrames * MAX_ENTRIES_PER_FRAME) throw tooManyFrames(maxFrames);
  const id = String(streamIndex).padStart(2, '0');
  const tick = layout.scale / layout.rate;
  let base: number | undefined;
  let lastPos = -1;
  let ticks = layout.start;
  for (let first = 0; first < entries; first += INDEX_PIECE_BYTES / 16) {
    const piece = await source.read(
      idx1.offset + first * 16,
      Math.min(INDEX_PIECE_BYTES, (entries - first) * 16),
    );
    for (let at = 0; at + 16 <= piece.length; at += 16) {
      const flags = piece.readUInt32LE(at + 4);
      const pos = piece.readUInt32LE(at + 8);
      const len = piece.readUInt32LE(at + 12);
      // Offsets count from the movi list unless the first one already lies beyond it (absolute).
      base ??= pos > layout.moviList ? 0 : layout.moviList;
      const at0 = piece[at] ?? 0;
      const at1 = piece[at + 1] ?? 0;
      if (!isDigit(at0) || !isDigit(at1)) continue;
      const position = base + pos;
      if (piece.toString('latin1', at, at + 2) === id) {
        if (position + 8 + len > source.size) {
          throw truncated(`idx1 points at ${position + 8 + len}, the file has ${source.size} bytes`);
        }
        if (len > 0 && position !== lastPos) {
          builder.add({
            dts: ticks * tick,
            key: (flags & AVIIF_KEYFRAME) !== 0,
            discarded: false,
            size: len,
          });
        }
        ticks += 1;
      }
      lastPos = position;
    }
  }
}

/** ASCII '0'–'9': idx1 names a stream by two digits. */
function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}
