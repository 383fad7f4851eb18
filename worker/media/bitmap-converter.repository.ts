import { tooManyImagePixels } from './image-decoder.repository.js';
import { UnsupportedMediaError } from '../../shared/errors/errors.js';
import type { SniffedMedia } from '../../shared/media/media-sniffer.js';
import { HEIC_MESSAGE } from './image-decoder.repository.js';
import type { FfmpegBinaries } from '../video/ffmpeg-binaries.js';
import { ToolProcess } from '../video/tool-process.js';

export interface BitmapConverterOptions {
  binaries: Pick<FfmpegBinaries, 'ffmpeg'>;
  /** Largest picture decoded, in pixels (MAX_IMAGE_PIXELS); ffmpeg refuses a larger header before allocating. */
  maxPixels: number;
  /** @defaultValue 30000 */
  idleTimeoutMs?: number;
}

const NOT_DECODABLE = 'The image is truncated or corrupt and cannot be decoded; send the complete file';

/**
 * Readies an image for the decoder by what its bytes were sniffed to be, once per job. libvips, behind
 * sharp, reads no BMP. ffmpeg's BMP decoder reads every variant (bit depths, RLE, top-down, OS/2), so a BMP
 * is turned into a lossless PNG here, bounded by the pixel limit, and then goes the way of every other
 * image. A HEIF whose brand says HEVC is refused, since libvips is built without it. Other formats pass
 * through untouched.
 */
export class BitmapConverter {
  constructor(private readonly options: BitmapConverterOptions) {}

  async toDecodable(bytes: Buffer, sniffed: SniffedMedia): Promise<Buffer> {
    if (sniffed.kind === 'image' && sniffed.format === 'heic') throw new UnsupportedMediaError(HEIC_MESSAGE);
    if (sniffed.kind !== 'image' || sniffed.format !== 'bmp') return bytes;
    const claimed = bmpSize(bytes);
    if (claimed && claimed.width * claimed.height > this.options.maxPixels) {
      throw tooManyImagePixels(claimed.width, claimed.height, this.options.maxPixels);
    }
    const args = [
      ...['-v', 'warning', '-nostdin', '-max_pixels', String(this.options.maxPixels)],
      ...['-protocol_whitelist', 'pipe', '-format_whitelist', 'bmp_pipe', '-f', 'bmp_pipe', '-i', 'pipe:0'],
      ...['-frames:v', '1', '-c:v', 'png', '-f', 'image2pipe', 'pipe:1'],
    ];
    const child = new ToolProcess('ffmpeg', this.options.binaries.ffmpeg, args, {
      idleTimeoutMs: this.options.idleTimeoutMs ?? 30_000,
      stdin: bytes,
      tooLarge: tooManyImagePixels,
    });
    const parts: Buffer[] = [];
    try {
      for await (const chunk of child.chunks()) parts.push(chunk);
      await child.settle(NOT_DECODABLE);
    } finally {
      await child.close();
    }
    const png = Buffer.concat(parts);
    if (png.length === 0) throw new UnsupportedMediaError(NOT_DECODABLE);
    return png;
  }
}

/**
 * The size a BMP's header states: the OS/2 core header (12 bytes) has 16-bit sizes, every later one 32-bit
 * sizes, a negative height meaning rows top-down. Checked before ffmpeg, which may give up on a file too
 * short for its claim before it compares the claim with the limit.
 */
function bmpSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length < 26) return undefined;
  if (bytes.readUInt32LE(14) === 12) return { width: bytes.readUInt16LE(18), height: bytes.readUInt16LE(20) };
  return { width: Math.abs(bytes.readInt32LE(18)), height: Math.abs(bytes.readInt32LE(22)) };
}
